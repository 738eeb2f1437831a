//! Benchmarks of asap-rs.
