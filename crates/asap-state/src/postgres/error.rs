use crate::{ErrorKind, StoreError};

/// Maps a sqlx error: a server that cannot be reached, is shutting down, is out of
/// connections or resources, or broke a transaction off to resolve a conflict (deadlock,
/// serialization failure, lock or statement timeout) is [`ErrorKind::Unavailable`] (retry
/// later); rows that do not decode and data the server reports corrupt are
/// [`ErrorKind::Corrupt`].
pub(super) fn db_error(what: &str, e: sqlx::Error) -> StoreError {
    let kind = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => ErrorKind::Unavailable,
        sqlx::Error::Database(db) => db.code().as_deref().map_or(ErrorKind::Other, kind_of),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_) => ErrorKind::Corrupt,
        _ => ErrorKind::Other,
    };
    StoreError::new(kind, format!("PostgreSQL store: {what}: {e}")).with_source(e)
}

/// The kind of a SQLSTATE (PostgreSQL manual, appendix A).
fn kind_of(code: &str) -> ErrorKind {
    match code {
        // XX001 data_corrupted, XX002 index_corrupted.
        "XX001" | "XX002" => ErrorKind::Corrupt,
        // 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available,
        // 57014 query_canceled (statement_timeout), 57P01..57P05 shutdown and idle timeouts.
        "40001" | "40P01" | "55P03" | "57014" | "57P01" | "57P02" | "57P03" | "57P04" | "57P05" => {
            ErrorKind::Unavailable
        }
        // Class 08 connection exception, class 53 insufficient resources (disk full, out of
        // memory, too many connections), class 58 system error (I/O).
        _ if code.starts_with("08") || code.starts_with("53") || code.starts_with("58") => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Other,
    }
}

/// A stored JSON value that does not decode.
pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::new(ErrorKind::Corrupt, format!("PostgreSQL store: {what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_map_to_kinds() {
        assert_eq!(kind_of("08006"), ErrorKind::Unavailable);
        assert_eq!(kind_of("53300"), ErrorKind::Unavailable);
        assert_eq!(kind_of("40P01"), ErrorKind::Unavailable);
        assert_eq!(kind_of("57P01"), ErrorKind::Unavailable);
        assert_eq!(kind_of("XX001"), ErrorKind::Corrupt);
        assert_eq!(kind_of("23505"), ErrorKind::Other);
        assert_eq!(kind_of("42P01"), ErrorKind::Other);
        assert_eq!(kind_of(""), ErrorKind::Other);
    }
}
