//! Counters kept elsewhere, read at scrape time, one family per name with a series per
//! label value (`Metrics::register_labelled_counter_fn`).
//!
//! Each reader may stop answering (`None`: what it read from is gone, a dropped client); it
//! is then forgotten, so sources made and dropped all day do not pile up. Readers of the
//! same label value are summed into one series.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;

/// Reads a count, or `None` once its source is gone.
pub(super) type Reader = Box<dyn Fn() -> Option<u64> + Send + Sync>;

/// One family of counters read at scrape time.
pub(super) struct LabelledCounters {
    name: &'static str,
    help: &'static str,
    label: &'static str,
    readers: Mutex<Vec<(String, Reader)>>,
}

impl std::fmt::Debug for LabelledCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelledCounters")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LabelledCounters {
    pub(super) fn new(name: &'static str, help: &'static str, label: &'static str) -> Arc<Self> {
        Arc::new(Self {
            name,
            help,
            label,
            readers: Mutex::new(Vec::new()),
        })
    }

    pub(super) fn add(&self, value: String, reader: Reader) {
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((value, reader));
    }

    /// The current series, readers whose source is gone dropped.
    fn read(&self) -> BTreeMap<String, u64> {
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        let mut series = BTreeMap::new();
        readers.retain(|(value, reader)| match reader() {
            Some(count) => {
                *series.entry(value.clone()).or_insert(0) += count;
                true
            }
            None => false,
        });
        series
    }
}

/// The registry's handle on a shared family.
#[derive(Debug)]
pub(super) struct Registered(pub(super) Arc<LabelledCounters>);

impl Collector for Registered {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let family = &self.0;
        let series = family.read();
        let mut metric = encoder.encode_descriptor(
            family.name,
            family.help,
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (value, count) in series {
            let labels = [(family.label, value)];
            let encoder = metric.encode_family(&labels)?;
            ConstCounter::new(count).encode(encoder)?;
        }
        Ok(())
    }
}
