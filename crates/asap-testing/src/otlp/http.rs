//! The OTLP/HTTP side: `POST /v1/traces` with protobuf bodies, served with hyper (HTTP/1.1).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use asap_codec::compression::{Encoding, decompress_slice};
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::{Received, Transport};

/// The largest request body accepted, compressed or not.
const MAX_BODY: usize = 16 * 1024 * 1024;
const PROTOBUF: &str = "application/x-protobuf";

/// Accepts connections until the task is aborted; dropping the [`JoinSet`] then ends the
/// open connections too.
pub(super) async fn serve(listener: TcpListener, received: Arc<Received>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let received = Arc::clone(&received);
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let received = Arc::clone(&received);
                async move { Ok::<_, Infallible>(respond(request, &received).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn respond(request: Request<Incoming>, received: &Received) -> Response<Full<Bytes>> {
    if request.uri().path() != "/v1/traces" {
        return text(
            StatusCode::NOT_FOUND,
            "not found; OTLP traces go to POST /v1/traces",
        );
    }
    if request.method() != Method::POST {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "use POST");
        response
            .headers_mut()
            .insert(ALLOW, http::HeaderValue::from_static("POST"));
        return response;
    }
    if !is_protobuf(request.headers()) {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "this receiver only takes Content-Type: application/x-protobuf",
        );
    }
    let encoding =
        request
            .headers()
            .get(CONTENT_ENCODING)
            .map_or(Ok(Encoding::Identity), |value| {
                value
                    .to_str()
                    .map_err(|_| ())
                    .and_then(|v| Encoding::from_content_encoding(v).map_err(|_| ()))
            });
    let Ok(encoding) = encoding else {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported Content-Encoding",
        );
    };
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return text(StatusCode::BAD_REQUEST, &format!("reading the body: {e}")),
    };
    let body = match decompress_slice(encoding, &body, MAX_BODY).await {
        Ok(body) => body,
        Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let export = match ExportTraceServiceRequest::decode(body.as_slice()) {
        Ok(export) => export,
        Err(e) => return text(StatusCode::BAD_REQUEST, &format!("not OTLP protobuf: {e}")),
    };
    received.record(Transport::HttpProtobuf, export);
    let reply = ExportTraceServiceResponse {
        partial_success: None,
    };
    let mut response = Response::new(Full::new(Bytes::from(reply.encode_to_vec())));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, http::HeaderValue::from_static(PROTOBUF));
    response
}

/// Whether the media type (parameters ignored) is `application/x-protobuf`.
fn is_protobuf(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case(PROTOBUF))
}

fn text(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(message.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
