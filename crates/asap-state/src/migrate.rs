//! Snapshot schema migrations: `data` written by an older version of the application is
//! upgraded to the current schema when it is read.
//!
//! A [`SnapshotRecord`] carries the `schema_version` its `snapshot.data` follows. The
//! application registers, per snapshot **kind**, its current version and one step per version
//! (`N → N + 1`, a plain function over the data object); [`MigratingSnapshotStore`] applies
//! the steps on every read, and [`migrate_all`] rewrites a whole store in place.
//!
//! # Kinds
//!
//! One store may hold snapshots of several handlers whose schemas evolve separately, so the
//! lineage of a snapshot is named by its data: the string member `"kind"` of
//! `snapshot.data` ([`KIND_MEMBER`]; another name with
//! [`SnapshotMigrations::with_kind_member`]). The member belongs to the application: it
//! writes it like any other member, and the migrations only read it.
//!
//! - A snapshot whose data has no string at that member is of the **unnamed kind** `""`: a
//!   store with one schema lineage registers its steps under `""` and never writes the
//!   member.
//! - The kind is read once, before the first step; a step that renames it does not move the
//!   snapshot to another lineage.
//! - A snapshot of a kind nothing is registered for is returned as stored: the registry
//!   speaks only for the kinds it knows.
//!
//! # Refusals
//!
//! A read never guesses. A snapshot below the current version with no step registered from
//! one of the versions on its way up, or one whose step answers a [`MigrationError`], is
//! refused with [`ErrorKind::Migration`]; a snapshot **above** the current version (written by
//! a newer build of the application) with [`ErrorKind::SchemaTooNew`]. Either way the stored
//! record is left as it was.
//!
//! ```
//! use asap_model::JsonObject;
//! use asap_state::migrate::{MigrationError, SnapshotMigrations};
//!
//! // Schema 1 had `count`; 2 renamed it `total`; 3 added `unit`.
//! let migrations = SnapshotMigrations::new()
//!     .kind("counter", 3)
//!     .step("counter", 1, |mut data: JsonObject| {
//!         let count = data.remove("count").ok_or_else(|| MigrationError::new("no count"))?;
//!         data.insert("total".into(), count);
//!         Ok(data)
//!     })
//!     .step("counter", 2, |mut data: JsonObject| {
//!         data.insert("unit".into(), "items".into());
//!         Ok(data)
//!     });
//! assert_eq!(migrations.current("counter"), Some(3));
//! assert_eq!(migrations.current("timer"), None);
//! ```

mod all;
mod store;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use asap_model::JsonObject;

use crate::{ErrorKind, SnapshotRecord, StoreError};

pub use all::{MigrationReport, RefusedSnapshot, migrate_all, migrate_tasks};
pub use store::MigratingSnapshotStore;

/// The member of `snapshot.data` that names a snapshot's kind, unless changed with
/// [`SnapshotMigrations::with_kind_member`].
pub const KIND_MEMBER: &str = "kind";

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a migration step could not upgrade a snapshot's data.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MigrationError {
    message: String,
    #[source]
    source: Option<Source>,
}

impl MigrationError {
    /// A step failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The description, without the source.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// One upgrade step: the data of schema version `N` in, the data of `N + 1` out.
type Step = Arc<dyn Fn(JsonObject) -> Result<JsonObject, MigrationError> + Send + Sync>;

#[derive(Clone, Default)]
struct Lineage {
    /// Set by [`SnapshotMigrations::kind`]; otherwise one above the highest step.
    declared: Option<u32>,
    steps: BTreeMap<u32, Step>,
}

impl Lineage {
    fn current(&self) -> u32 {
        self.declared.unwrap_or_else(|| {
            self.steps
                .keys()
                .next_back()
                .map_or(1, |from| from.saturating_add(1))
        })
    }
}

/// What [`SnapshotMigrations::upgrade`] did to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Migrated {
    /// Already at the current version of its kind: unchanged.
    Current,
    /// Upgraded from schema version `from` to the current one.
    Upgraded {
        /// The schema version the record was stored with.
        from: u32,
    },
    /// No lineage is registered for its kind: unchanged.
    UnknownKind,
}

/// The registry of snapshot kinds: the current schema version of each and the steps up to it
/// (see the [module documentation](self) for how a snapshot names its kind).
///
/// Cheap to share: build it once at start-up and hand an `Arc` to the stores.
#[derive(Clone)]
pub struct SnapshotMigrations {
    kind_member: String,
    kinds: HashMap<String, Lineage>,
}

impl std::fmt::Debug for SnapshotMigrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<(&str, u32, Vec<u32>)> = self
            .kinds
            .iter()
            .map(|(kind, l)| {
                (
                    kind.as_str(),
                    l.current(),
                    l.steps.keys().copied().collect(),
                )
            })
            .collect();
        kinds.sort_unstable();
        f.debug_struct("SnapshotMigrations")
            .field("kind_member", &self.kind_member)
            .field("kinds (kind, current, steps from)", &kinds)
            .finish()
    }
}

impl Default for SnapshotMigrations {
    fn default() -> Self {
        Self::new()
    }
}

impl SnapshotMigrations {
    /// An empty registry reading kinds from [`KIND_MEMBER`].
    pub fn new() -> Self {
        Self {
            kind_member: KIND_MEMBER.to_owned(),
            kinds: HashMap::new(),
        }
    }

    /// Reads the kind from the data member `member` instead of [`KIND_MEMBER`].
    #[must_use]
    pub fn with_kind_member(mut self, member: impl Into<String>) -> Self {
        self.kind_member = member.into();
        self
    }

    /// The data member that names a snapshot's kind.
    pub fn kind_member(&self) -> &str {
        &self.kind_member
    }

    /// Declares `kind` with `current` as its current schema version. Without this call a
    /// kind's current version is one above its highest step.
    #[must_use]
    pub fn kind(mut self, kind: impl Into<String>, current: u32) -> Self {
        self.kinds.entry(kind.into()).or_default().declared = Some(current);
        self
    }

    /// Registers the step that upgrades data of `kind` from schema version `from` to
    /// `from + 1`, replacing any step registered for the same pair. Steps at or above the
    /// kind's current version are never run.
    #[must_use]
    pub fn step<F>(mut self, kind: impl Into<String>, from: u32, step: F) -> Self
    where
        F: Fn(JsonObject) -> Result<JsonObject, MigrationError> + Send + Sync + 'static,
    {
        self.kinds
            .entry(kind.into())
            .or_default()
            .steps
            .insert(from, Arc::new(step));
        self
    }

    /// The current schema version of `kind`, or `None` when it is not registered.
    pub fn current(&self, kind: &str) -> Option<u32> {
        self.kinds.get(kind).map(Lineage::current)
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = self.kinds.keys().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds
    }

    /// The kind `data` names: the string at the [kind member](Self::kind_member), or `""`.
    pub fn kind_of<'a>(&self, data: &'a JsonObject) -> &'a str {
        data.get(&self.kind_member)
            .and_then(|v| v.as_str())
            .unwrap_or("")
    }

    /// Brings `record` to the current version of its kind, in place.
    ///
    /// On `Err` the record is unchanged: [`ErrorKind::SchemaTooNew`] when its version is above
    /// the current one, [`ErrorKind::Migration`] when a step is missing or fails (the
    /// [`MigrationError`] is the error's source).
    pub fn upgrade(&self, record: &mut SnapshotRecord) -> Result<Migrated, StoreError> {
        let kind = self.kind_of(&record.snapshot.data).to_owned();
        let Some(lineage) = self.kinds.get(&kind) else {
            return Ok(Migrated::UnknownKind);
        };
        let current = lineage.current();
        let from = record.schema_version;
        if from == current {
            return Ok(Migrated::Current);
        }
        if from > current {
            return Err(StoreError::new(
                ErrorKind::SchemaTooNew,
                format!(
                    "{}: schema version {from} is newer than the current version {current} of \
                     kind {kind:?} (written by a newer version of the application)",
                    describe(record)
                ),
            ));
        }
        // Cloned so that a failed step leaves the record as it was.
        let mut data = record.snapshot.data.clone();
        for version in from..current {
            let Some(step) = lineage.steps.get(&version) else {
                return Err(StoreError::new(
                    ErrorKind::Migration,
                    format!(
                        "{}: no migration of kind {kind:?} from schema version {version} to {}",
                        describe(record),
                        version + 1
                    ),
                ));
            };
            data = step(data).map_err(|e| {
                StoreError::new(
                    ErrorKind::Migration,
                    format!(
                        "{}: migration of kind {kind:?} from schema version {version} to {} \
                         failed: {e}",
                        describe(record),
                        version + 1
                    ),
                )
                .with_source(e)
            })?;
        }
        record.snapshot.data = data;
        record.schema_version = current;
        Ok(Migrated::Upgraded { from })
    }
}

fn describe(record: &SnapshotRecord) -> String {
    format!(
        "snapshot {} (task {}, version {})",
        record.snapshot.id, record.snapshot.task_id, record.snapshot.version
    )
}
