//! Redaction of secrets before logging.
