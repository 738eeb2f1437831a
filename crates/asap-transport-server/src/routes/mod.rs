//! Routes of PROTOCOL §10.1 other than `POST /asap`.

pub mod health;
pub mod manifest;
pub mod metrics;

pub use health::Readiness;
pub use manifest::ManifestRoute;

/// Path of the JSON-RPC endpoint.
pub const ASAP_PATH: &str = "/asap";
/// Path of the manifest.
pub const MANIFEST_PATH: &str = "/.well-known/asap/manifest.json";
/// Path of the agent health document.
pub const AGENT_HEALTH_PATH: &str = "/.well-known/asap/health";
/// Liveness.
pub const HEALTH_PATH: &str = "/health";
/// Readiness.
pub const READY_PATH: &str = "/ready";
/// Metrics (PROTOCOL §14.1), served when the server has a `Metrics` registry.
pub const METRICS_PATH: &str = "/asap/metrics";
