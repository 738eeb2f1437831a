//! The series names of an exposition in the 0.0.4 text format, as Prometheus stores them.

use std::collections::{BTreeMap, BTreeSet};

/// Sample names and the families (`# TYPE` lines) they belong to.
pub(crate) struct Exposition {
    /// Family name to type (`counter`, `gauge`, `histogram`…).
    families: BTreeMap<String, String>,
    samples: BTreeSet<String>,
}

impl Exposition {
    pub(crate) fn parse(text: &str) -> Self {
        let mut families = BTreeMap::new();
        let mut samples = BTreeSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut words = rest.split_whitespace();
                if let (Some(name), Some(kind)) = (words.next(), words.next()) {
                    families.insert(name.to_owned(), kind.to_owned());
                }
            } else if !line.starts_with('#') && !line.trim().is_empty() {
                let end = line.find(['{', ' ']).unwrap_or(line.len());
                samples.insert(line[..end].to_owned());
            }
        }
        Self { families, samples }
    }

    /// The family of the series `name`, when the exposition has samples of that name:
    /// `name` itself, or a histogram's name for its `_bucket`, `_sum` and `_count`.
    pub(crate) fn family_of(&self, name: &str) -> Option<&str> {
        if !self.samples.contains(name) {
            return None;
        }
        if let Some((family, _)) = self.families.get_key_value(name) {
            return Some(family);
        }
        ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
            let base = name.strip_suffix(suffix)?;
            let (family, kind) = self.families.get_key_value(base)?;
            (kind == "histogram").then_some(family.as_str())
        })
    }

    /// Every family that has samples.
    pub(crate) fn families(&self) -> BTreeSet<&str> {
        self.samples
            .iter()
            .filter_map(|sample| self.family_of(sample))
            .collect()
    }
}

#[test]
fn histogram_series_belong_to_their_family() {
    let exposition = Exposition::parse(
        "# TYPE a_seconds histogram\na_seconds_bucket{le=\"1\"} 1\na_seconds_sum 1\n\
         a_seconds_count 1\n# TYPE b_total counter\nb_total{x=\"y\"} 2\n",
    );
    assert_eq!(exposition.family_of("a_seconds_bucket"), Some("a_seconds"));
    assert_eq!(exposition.family_of("a_seconds_count"), Some("a_seconds"));
    assert_eq!(exposition.family_of("b_total"), Some("b_total"));
    assert_eq!(exposition.family_of("a_seconds"), None);
    assert_eq!(exposition.family_of("b"), None);
    assert_eq!(exposition.families().len(), 2);
}
