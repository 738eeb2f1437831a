//! The OTLP/gRPC side: the generated `TraceService` server on a tonic transport server.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::codec::CompressionEncoding;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

use super::{Received, Transport};

/// Records every decoded `Export` call; tonic answers undecodable messages with an error
/// status before this is reached.
struct Sink(Arc<Received>);

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.0.record(Transport::Grpc, request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// Serves until `stop` fires (or its sender is dropped), then shuts down gracefully.
pub(super) async fn serve(
    listener: TcpListener,
    received: Arc<Received>,
    stop: oneshot::Receiver<()>,
) {
    let service =
        TraceServiceServer::new(Sink(received)).accept_compressed(CompressionEncoding::Gzip);
    let stopped = async {
        let _ = stop.await;
    };
    // An error here means the listener failed; the test then sees no spans and says so.
    let _ = Server::builder()
        .serve_with_incoming_shutdown(service, TcpIncoming::from(listener), stopped)
        .await;
}
