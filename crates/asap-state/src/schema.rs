//! Where a store's database schema stands against the migrations of this build.

/// The schema of a state store's database, read without changing it (see
/// [`Stores::schema_status`](crate::Stores::schema_status)).
///
/// Opening a store applies every pending migration; this tells beforehand what opening would
/// do, for `asap state migrate --check` and for deployments that migrate in a step of their
/// own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SchemaStatus {
    /// The newest migration applied to the database (0: none, e.g. a file not created yet).
    pub applied: i64,
    /// The newest migration this build carries.
    pub latest: i64,
}

impl SchemaStatus {
    /// A status of `applied` against `latest`.
    pub fn new(applied: i64, latest: i64) -> Self {
        Self { applied, latest }
    }

    /// How many migrations opening the store would apply (0 when the database is current or
    /// newer than this build).
    pub fn pending(&self) -> i64 {
        (self.latest - self.applied).max(0)
    }

    /// Whether the database was migrated by a newer build, which this one refuses to open.
    pub fn is_newer(&self) -> bool {
        self.applied > self.latest
    }
}
