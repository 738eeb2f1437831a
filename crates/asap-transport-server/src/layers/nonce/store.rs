use std::time::Duration;

use futures_util::future::BoxFuture;

/// Where seen nonces are remembered, possibly shared by several server processes.
///
/// # Contract
///
/// [`check_and_mark`](NonceStore::check_and_mark) returns `Ok(true)` when `nonce` was **not**
/// remembered (it is fresh, and is now remembered for `ttl`) and `Ok(false)` when it was
/// already remembered and has not expired (a replay). An expired nonce is fresh again.
///
/// # Atomicity
///
/// The check and the mark must be **one atomic step** with respect to every other call on the
/// same store, including calls from other processes when the store is shared: of any number of
/// concurrent calls with the same nonce inside its TTL, exactly one may return `Ok(true)`. A
/// "look up, then insert" pair of operations lets concurrent replays through. A Redis store,
/// for example, uses a single `SET <prefix><nonce> 1 NX PX <ttl-ms>` (fresh iff it answers
/// `OK`); a SQL store an `INSERT` against a unique key.
///
/// A store that cannot answer returns a [`NonceStoreError`]; the server then refuses the
/// envelope with `-32603` (it never lets an unchecked nonce through).
///
/// # Example
///
/// A (deliberately simple, single-lock) custom store:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
///
/// use asap_transport_server::layers::nonce::{NonceStore, NonceStoreError};
/// use futures_util::future::BoxFuture;
///
/// #[derive(Default)]
/// struct SimpleStore(Mutex<HashMap<String, Instant>>);
///
/// impl NonceStore for SimpleStore {
///     fn check_and_mark<'a>(
///         &'a self,
///         nonce: &'a str,
///         ttl: Duration,
///     ) -> BoxFuture<'a, Result<bool, NonceStoreError>> {
///         let now = Instant::now();
///         let result = match self.0.lock() {
///             Ok(mut seen) => match seen.get(nonce) {
///                 Some(expires) if *expires > now => Ok(false),
///                 _ => {
///                     seen.insert(nonce.to_owned(), now + ttl);
///                     Ok(true)
///                 }
///             },
///             Err(_) => Err(NonceStoreError::new("lock poisoned")),
///         };
///         Box::pin(std::future::ready(result))
///     }
/// }
///
/// # futures_util::FutureExt::now_or_never(async {
/// let store = SimpleStore::default();
/// let ttl = Duration::from_secs(600);
/// assert!(store.check_and_mark("n-1", ttl).await.unwrap());
/// assert!(!store.check_and_mark("n-1", ttl).await.unwrap());
/// # }).unwrap();
/// ```
pub trait NonceStore: Send + Sync {
    /// Atomically checks whether `nonce` is remembered and, when it is not, remembers it for
    /// `ttl`. `Ok(true)`: fresh; `Ok(false)`: replayed within its TTL.
    fn check_and_mark<'a>(
        &'a self,
        nonce: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, NonceStoreError>>;
}

/// A nonce store could not answer (connection lost, timeout, poisoned state…).
///
/// ```
/// use asap_transport_server::layers::nonce::NonceStoreError;
///
/// let io = std::io::Error::other("connection reset");
/// let error = NonceStoreError::with_source("redis unreachable", io);
/// assert_eq!(error.to_string(), "nonce store failed: redis unreachable");
/// assert!(std::error::Error::source(&error).is_some());
/// ```
#[derive(Debug, thiserror::Error)]
#[error("nonce store failed: {message}")]
pub struct NonceStoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl NonceStoreError {
    /// An error described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error described by `message`, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The description, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A store of the `asap-state` crate (in memory, SQLite, PostgreSQL, Redis), shared by
/// replicas: `builder.nonce_store(Arc::<dyn asap_state::NonceStore>::from(…))`. Its errors
/// become [`NonceStoreError`]s (the envelope is refused, never let through unchecked).
impl<T: asap_state::NonceStore + ?Sized> NonceStore for std::sync::Arc<T> {
    fn check_and_mark<'a>(
        &'a self,
        nonce: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, NonceStoreError>> {
        let check = asap_state::NonceStore::check_and_mark(&**self, nonce, ttl);
        Box::pin(async move {
            check
                .await
                .map_err(|e| NonceStoreError::with_source(e.message().to_owned(), e))
        })
    }
}
