//! [`FileStore`]: one JSON file per URL in a directory.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::{PersistentStore, StoredEntry};
use crate::LOG_TARGET;

/// Distinguishes temporary files written concurrently by one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A [`PersistentStore`] keeping one JSON file per URL in a directory.
///
/// - **File name:** the 64-bit FNV-1a hash of the URL in 16 lower-case hex digits, plus
///   `.json` (stable across processes, platforms and releases).
/// - **Content:** `{"url": …, "manifest": …, "etag": …, "fetched_at": …}`. The URL is kept
///   so that a hash collision reads as "absent" rather than as another agent's manifest;
///   colliding URLs simply overwrite each other.
/// - **Atomic writes:** the entry is written to a temporary file in the same directory,
///   synced, then renamed over the target, so readers never see a partial file.
/// - **Corrupt files** (unreadable, not JSON, wrong shape) are treated as absent and logged
///   at `warn` level; the next successful fetch overwrites them.
///
/// The directory is created on the first write. Needs a Tokio runtime (`tokio::fs`).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use asap_cache::{CacheConfig, FileStore, ManifestCache};
///
/// let dir = std::env::temp_dir().join("asap-manifests");
/// let cache = ManifestCache::new(
///     CacheConfig::builder().persistent(Arc::new(FileStore::new(dir))).build(),
/// );
/// # drop(cache);
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

/// What a file holds: the URL and the entry.
#[derive(Serialize)]
struct RecordRef<'a> {
    url: &'a str,
    #[serde(flatten)]
    entry: &'a StoredEntry,
}

#[derive(Deserialize)]
struct Record {
    url: String,
    #[serde(flatten)]
    entry: StoredEntry,
}

impl FileStore {
    /// A store in `dir` (created on the first write; no I/O here).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds (or would hold) `url`'s entry.
    ///
    /// ```
    /// let store = asap_cache::FileStore::new("/var/cache/asap");
    /// let path = store.path_for("https://agent.example/.well-known/asap/manifest.json");
    /// assert_eq!(path.extension().unwrap(), "json");
    /// assert_eq!(path.file_stem().unwrap().len(), 16);
    /// ```
    pub fn path_for(&self, url: &str) -> PathBuf {
        self.dir
            .join(format!("{:016x}.json", fnv1a64(url.as_bytes())))
    }

    async fn read(&self, url: &str) -> Option<StoredEntry> {
        let path = self.path_for(url);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return None,
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, path = %path.display(), error = %err, "cannot read stored manifest; ignoring it");
                return None;
            }
        };
        match serde_json::from_slice::<Record>(&bytes) {
            Ok(record) if record.url == url => Some(record.entry),
            Ok(record) => {
                tracing::debug!(target: LOG_TARGET, path = %path.display(), url, stored_url = %record.url, "stored manifest belongs to another URL (hash collision)");
                None
            }
            Err(err) => {
                tracing::warn!(target: LOG_TARGET, path = %path.display(), error = %err, "corrupt stored manifest; ignoring it");
                None
            }
        }
    }

    async fn write(&self, url: &str, entry: &StoredEntry) -> io::Result<()> {
        let bytes = serde_json::to_vec(&RecordRef { url, entry })?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let target = self.path_for(url);
        let temp = self.dir.join(format!(
            ".{:016x}.{}.{}.tmp",
            fnv1a64(url.as_bytes()),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = async {
            let mut file = tokio::fs::File::create(&temp).await?;
            file.write_all(&bytes).await?;
            file.sync_all().await?;
            drop(file);
            tokio::fs::rename(&temp, &target).await
        }
        .await;
        if written.is_err() {
            // Best effort: do not leave temporary files behind.
            let _ = tokio::fs::remove_file(&temp).await;
        }
        written
    }
}

impl PersistentStore for FileStore {
    fn load<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Option<StoredEntry>> {
        Box::pin(self.read(url))
    }

    fn store<'a>(&'a self, url: &'a str, entry: &'a StoredEntry) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let Err(err) = self.write(url, entry).await {
                tracing::warn!(target: LOG_TARGET, url, dir = %self.dir.display(), error = %err, "cannot store manifest");
            }
        })
    }

    fn remove<'a>(&'a self, url: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path_for(url);
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => {
                    tracing::warn!(target: LOG_TARGET, path = %path.display(), error = %err, "cannot remove stored manifest");
                }
            }
        })
    }
}

/// 64-bit FNV-1a: tiny, stable, and good enough to spread URLs over file names.
fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::fnv1a64;

    #[test]
    fn fnv1a64_matches_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
