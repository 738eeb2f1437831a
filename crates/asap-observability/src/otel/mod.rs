//! OpenTelemetry traces over OTLP (PROTOCOL §14.3), feature `otel`.
//!
//! [`OtelConfig::from_env`] reads the standard `OTEL_*` variables; [`Telemetry::start`]
//! builds a tracer provider exporting over gRPC or HTTP/protobuf, and
//! [`Telemetry::layer`] the `tracing` layer (tracing-opentelemetry) that turns the spans of
//! the ASAP crates — the server's request and handler spans, the client's send and attempt
//! spans — into OpenTelemetry spans. With no exporter configured nothing is started: the
//! spans stay plain `tracing` spans and cost what those cost.
//!
//! ```no_run
//! use asap_observability::otel::{OtelConfig, Telemetry};
//! use tracing_subscriber::prelude::*;
//!
//! let config = OtelConfig::from_env()?.with_default_service_name("urn:asap:agent:echo");
//! let telemetry = Telemetry::start(&config)?; // None unless OTEL_* asks for an exporter
//! tracing_subscriber::registry()
//!     .with(telemetry.as_ref().map(|t| t.layer()))
//!     .init();
//! // … serve; dropping `telemetry` exports what is left and stops the exporter.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The exporter's runtime
//!
//! The SDK's batch processor exports from a thread of its own, outside any tokio runtime.
//! The gRPC exporter (tonic) needs one: run there it panics on its first export, the thread
//! dies and every later span is dropped while the process goes on. [`Telemetry`] therefore
//! owns a one-thread runtime, builds the gRPC exporter in it and drives each export on it.
//! The HTTP exporter uses a blocking client, which needs none (and must not run inside
//! one). Both are tested against a real receiver decoding the protobuf they send.

mod config;
mod exporter;

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

pub use config::{OtelConfig, OtelConfigError, OtlpProtocol, TracesExporter};

/// The instrumentation scope of every span (PROTOCOL §14.3).
pub const TRACER_NAME: &str = "asap.protocol";

/// Why [`Telemetry::start`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtelError {
    /// The exporter could not be built (a malformed endpoint, for instance).
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
    /// The exporter's runtime could not be started.
    #[error("cannot start the OTLP exporter's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A flush or the shutdown failed.
    #[error("OpenTelemetry: {0}")]
    Sdk(String),
}

/// A running tracer provider and its exporter. Dropping it exports the spans still
/// buffered (waiting at most the exporter's timeout) and stops the exporter.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Telemetry {
    /// Starts exporting as `config` says, or returns `None` when it names no exporter.
    pub fn start(config: &OtelConfig) -> Result<Option<Self>, OtelError> {
        let TracesExporter::Otlp { protocol, endpoint } = &config.exporter else {
            return Ok(None);
        };
        let resource = Resource::builder()
            .with_service_name(config.service_name.clone())
            .build();
        let builder = SdkTracerProvider::builder().with_resource(resource);
        let (builder, runtime) = match protocol {
            OtlpProtocol::Grpc => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("asap-otlp")
                    .enable_all()
                    .build()
                    .map_err(OtelError::Runtime)?;
                let exporter = exporter::grpc(&runtime, endpoint, config.timeout)?;
                (builder.with_batch_exporter(exporter), Some(runtime))
            }
            OtlpProtocol::HttpProtobuf => {
                let exporter = exporter::http(endpoint, config.timeout)?;
                (builder.with_batch_exporter(exporter), None)
            }
        };
        Ok(Some(Self {
            provider: builder.build(),
            runtime,
        }))
    }

    /// The `tracing` layer exporting spans through this provider.
    ///
    /// Only spans and events at `info` or above become OpenTelemetry data, and never those
    /// of the exporter's own stack (tonic, hyper, h2, reqwest, the SDK): exporting those
    /// would make every export produce spans to export.
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let tracer = self.provider.tracer_with_scope(
            opentelemetry::InstrumentationScope::builder(TRACER_NAME)
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(exporter_filter())
    }

    /// Exports every finished span now.
    pub fn flush(&self) -> Result<(), OtelError> {
        self.provider
            .force_flush()
            .map_err(|e| OtelError::Sdk(e.to_string()))
    }

    /// Exports what is left and stops, reporting a failure that dropping would ignore.
    pub fn shutdown(mut self) -> Result<(), OtelError> {
        let result = self
            .provider
            .shutdown_with_timeout(Duration::from_secs(5))
            .map_err(|e| OtelError::Sdk(e.to_string()));
        self.stop_runtime();
        result
    }

    fn stop_runtime(&mut self) {
        // Not a plain drop: that would panic when the owner drops it inside async code.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // After `shutdown` this is a no-op that reports "already shut down".
        let _ = self.provider.shutdown_with_timeout(Duration::from_secs(5));
        self.stop_runtime();
    }
}

/// `info` and above, nothing from the exporter's own stack.
fn exporter_filter() -> EnvFilter {
    EnvFilter::new(
        "info,h2=off,hyper=off,hyper_util=off,tonic=off,tower=off,reqwest=off,\
         opentelemetry=off,opentelemetry_sdk=off,opentelemetry_otlp=off",
    )
}
