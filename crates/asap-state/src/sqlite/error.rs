use crate::{ErrorKind, StoreError};

/// Maps a sqlx error: the database being busy, locked, closed or unreachable is
/// [`ErrorKind::Unavailable`] (retry later); rows that do not decode are
/// [`ErrorKind::Corrupt`].
pub(super) fn db_error(what: &str, e: sqlx::Error) -> StoreError {
    let kind = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // SQLITE_BUSY, SQLITE_LOCKED and their extended codes; SQLITE_FULL, SQLITE_IOERR,
            // SQLITE_CANTOPEN.
            Some(code) if is_transient(code) => ErrorKind::Unavailable,
            // SQLITE_CORRUPT, SQLITE_NOTADB.
            Some("11" | "26") => ErrorKind::Corrupt,
            _ => ErrorKind::Other,
        },
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => ErrorKind::Corrupt,
        _ => ErrorKind::Other,
    };
    StoreError::new(kind, format!("SQLite store: {what}: {e}")).with_source(e)
}

fn is_transient(code: &str) -> bool {
    let primary = code.parse::<i32>().map(|c| c & 0xff).unwrap_or(0);
    matches!(primary, 5 | 6 | 10 | 13 | 14)
}

/// A stored JSON value that does not decode.
pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorKind::Corrupt, format!("SQLite store: {what}: {e}"))
}
