//! The whole server as one `tower::Service<http::Request<B>>`.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Method, Request, Response};
use tower_service::Service;

use crate::layers::future::ResponseFuture;
use crate::layers::response_body::ResponseBody;
use crate::response::{self, Body};
use crate::routes::{
    AGENT_HEALTH_PATH, ASAP_PATH, HEALTH_PATH, MANIFEST_PATH, METRICS_PATH, ManifestRoute,
    READY_PATH, Readiness, health, metrics,
};

/// Static routes' state, shared by all clones of the service.
#[derive(Debug)]
pub(crate) struct Routes {
    pub(crate) manifest: ManifestRoute,
    pub(crate) agent_id: String,
    pub(crate) version: String,
    pub(crate) started: Instant,
    pub(crate) readiness: Readiness,
    /// Served at `GET /asap/metrics` when set.
    pub(crate) metrics: Option<Arc<asap_observability::metrics::Metrics>>,
}

/// Routes requests: `POST /asap` to the JSON-RPC stack `R`, the manifest, health and
/// readiness documents, and 404/405 bodies exactly as the reference writes them. `HEAD` is
/// answered on every `GET` route (the reference answers 405, I-14).
///
/// `poll_ready` is the JSON-RPC stack's, so backpressure from a layer in it (a concurrency
/// limit, a load shedder) reaches whoever serves the router.
#[derive(Debug, Clone)]
pub struct AsapService<R> {
    rpc: R,
    routes: Arc<Routes>,
}

impl<R> AsapService<R> {
    pub(crate) fn new(rpc: R, routes: Routes) -> Self {
        Self {
            rpc,
            routes: Arc::new(routes),
        }
    }

    /// Readiness handle (e.g. to add a check or flip it during shutdown).
    pub fn readiness(&self) -> &Readiness {
        &self.routes.readiness
    }

    /// The serialized manifest route.
    pub fn manifest(&self) -> &ManifestRoute {
        &self.routes.manifest
    }
}

impl<R, B, ResBody> Service<Request<B>> for AsapService<R>
where
    R: Service<Request<B>, Response = Response<ResBody>, Error = Infallible>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = Infallible;
    type Future = ResponseFuture<R::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.rpc.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = request.method();
        let get = method == Method::GET || method == Method::HEAD;
        let head = method == Method::HEAD;
        let ready = |r: Response<Body>| ResponseFuture::own(r);
        match request.uri().path() {
            ASAP_PATH if method == Method::POST => ResponseFuture::inner(self.rpc.call(request)),
            ASAP_PATH => ready(response::method_not_allowed("POST")),
            MANIFEST_PATH if get => ready(self.routes.manifest.respond(request.headers(), head)),
            HEALTH_PATH if get => ready(strip(health::liveness(), head)),
            READY_PATH if get => ready(strip(health::readiness(&self.routes.readiness), head)),
            AGENT_HEALTH_PATH if get => ready(strip(
                health::agent_health(
                    &self.routes.agent_id,
                    &self.routes.version,
                    self.routes.started,
                ),
                head,
            )),
            METRICS_PATH if get && self.routes.metrics.is_some() => {
                let metrics = self.routes.metrics.as_deref();
                ready(strip(
                    metrics::respond(metrics.expect("checked"), request.headers()),
                    head,
                ))
            }
            METRICS_PATH if self.routes.metrics.is_some() => {
                ready(response::method_not_allowed("GET, HEAD"))
            }
            MANIFEST_PATH | HEALTH_PATH | READY_PATH | AGENT_HEALTH_PATH => {
                ready(response::method_not_allowed("GET, HEAD"))
            }
            _ => ready(response::not_found()),
        }
    }
}

fn strip(mut response: Response<Body>, head: bool) -> Response<Body> {
    if head {
        use http_body::Body as _;
        let len = response.body().size_hint().exact().unwrap_or(0);
        *response.body_mut() = Body::default();
        response
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    }
    response
}
