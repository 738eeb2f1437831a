use asap_model::InvalidTransition;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a store, as far as the caller needs to tell cases apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The store cannot be reached or did not answer in time (retry later; `/ready` is
    /// not-ready while this lasts).
    Unavailable,
    /// The record to change does not exist.
    NotFound,
    /// A record with the same key already exists (creating a task twice).
    AlreadyExists,
    /// The task state machine (§8) refuses the transition: `asap:protocol/invalid_state`.
    InvalidTransition,
    /// What the store holds cannot be read back (schema or data corruption).
    Corrupt,
    /// The backend does not offer this optional operation (a provided trait method left at
    /// its default, such as [`SnapshotStore::list_tasks`](crate::SnapshotStore::list_tasks)).
    Unsupported,
    /// A stored snapshot cannot be upgraded to the current schema version: no migration step
    /// is registered from its version, or a step failed (see [`crate::migrate`]).
    Migration,
    /// A stored snapshot was written with a schema version newer than the current one of its
    /// kind: a newer version of the application wrote it (see [`crate::migrate`]).
    SchemaTooNew,
    /// Anything else (a bug, a poisoned lock, an unexpected database answer).
    Other,
}

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    kind: ErrorKind,
    message: String,
    transition: Option<InvalidTransition>,
    #[source]
    source: Option<Source>,
}

impl StoreError {
    /// An error of `kind` described by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            transition: None,
            source: None,
        }
    }

    /// The store is unreachable, caused by `source`.
    pub fn unavailable(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(ErrorKind::Unavailable, message).with_source(source)
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The description, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The refused transition, for [`ErrorKind::InvalidTransition`].
    pub fn invalid_transition(&self) -> Option<&InvalidTransition> {
        self.transition.as_ref()
    }
}

impl From<InvalidTransition> for StoreError {
    fn from(e: InvalidTransition) -> Self {
        Self {
            kind: ErrorKind::InvalidTransition,
            message: e.to_string(),
            transition: Some(e),
            source: None,
        }
    }
}
