//! The process-wide `tracing` subscriber.
