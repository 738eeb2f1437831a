//! The two OTLP exporters, each where it can run (see the module docs of
//! [`otel`](super)).

use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::runtime::{Handle, Runtime};

use super::OtelError;

/// The gRPC exporter, built in `runtime` (tonic's channel starts its worker there) and
/// exporting on it.
pub(super) fn grpc(
    runtime: &Runtime,
    endpoint: &str,
    timeout: Duration,
) -> Result<OnRuntime<opentelemetry_otlp::SpanExporter>, OtelError> {
    let _entered = runtime.enter();
    let inner = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_protocol(Protocol::Grpc)
        .with_timeout(timeout)
        .build()
        .map_err(|e| OtelError::Exporter(e.to_string()))?;
    Ok(OnRuntime {
        inner,
        handle: runtime.handle().clone(),
    })
}

/// The HTTP/protobuf exporter, with opentelemetry-otlp's blocking client: it runs on the
/// batch processor's thread as it is.
pub(super) fn http(
    endpoint: &str,
    timeout: Duration,
) -> Result<opentelemetry_otlp::SpanExporter, OtelError> {
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .with_protocol(Protocol::HttpBinary)
        .with_timeout(timeout)
        .build()
        .map_err(|e| OtelError::Exporter(e.to_string()))
}

/// An exporter whose exports run on a runtime of their own.
#[derive(Debug)]
pub(super) struct OnRuntime<E> {
    inner: E,
    handle: Handle,
}

impl<E: SpanExporter> SpanExporter for OnRuntime<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if Handle::try_current().is_ok() {
            // Already inside a runtime (a simple processor called from a task): blocking
            // here would stall it, and the exporter finds its reactor anyway.
            self.inner.export(batch).await
        } else {
            // The batch processor's own thread, the usual case.
            self.handle.block_on(self.inner.export(batch))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
