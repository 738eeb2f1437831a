//! The in-memory entry and the moka expiry policy derived from its fetch time.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use asap_model::Manifest;
use moka::Expiry;

/// One cached manifest. Cloned on every hit, so every field is cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) etag: Option<Arc<str>>,
    pub(crate) fetched_at: SystemTime,
}

impl Entry {
    pub(crate) fn new(
        manifest: Arc<Manifest>,
        etag: Option<Arc<str>>,
        fetched_at: SystemTime,
    ) -> Self {
        Self {
            manifest,
            etag,
            fetched_at,
        }
    }

    /// Time since the fetch (zero if the clock went backwards).
    pub(crate) fn age(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.fetched_at)
            .unwrap_or(Duration::ZERO)
    }

    /// What is left of `lifetime`, measured from the fetch.
    fn remaining(&self, lifetime: Duration) -> Duration {
        lifetime.saturating_sub(self.age())
    }
}

/// Expires an entry `lifetime` after its fetch time, however late it was inserted (an
/// entry loaded from the persistent store keeps its original fetch time).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExpireAfterFetch(pub(crate) Duration);

impl Expiry<String, Entry> for ExpireAfterFetch {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &Entry,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.remaining(self.0))
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.remaining(self.0))
    }
}
