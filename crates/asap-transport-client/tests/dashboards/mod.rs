//! Helpers of tests/dashboards.rs.

pub(crate) mod agents;
pub(crate) mod exposition;
pub(crate) mod model;
pub(crate) mod promql;
pub(crate) mod rules;
