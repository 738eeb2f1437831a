//! Assembling the layers into a server.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use asap_model::Manifest;
use asap_observability::metrics::Metrics;
use asap_observability::observe::{Observer, Observers};
use tokio::net::TcpListener;
use tower::util::Either;
use tower_layer::{Identity, Stack};

use crate::config::ServerConfig;
use crate::context::AsapRequest;
use crate::endpoint::{Envelopes, RpcEndpoint};
use crate::layers::access_log::AccessLog;
use crate::layers::auth::{Auth, AuthLayer, SenderMatch, TokenValidator};
use crate::layers::body_limit::BodyLimit;
use crate::layers::compression::ResponseCompression;
use crate::layers::decompression::Decompression;
use crate::layers::idempotency::{Idempotency, IdempotencyConfig, IdempotencyLayer};
use crate::layers::nonce::{MemoryNonceStore, NonceCheck, NonceLayer, NonceStore};
use crate::layers::ratelimit::{
    OptionalRateLimit, RateLimitKey, RateLimitLayer, SenderRateLimit, SenderRateLimitLayer,
    SharedRateLimit, SharedRateLimitLayer,
};
use crate::layers::timestamp::{TimestampWindow, TimestampWindowLayer};
use crate::registry::{BlockingHandler, BlockingPool, Dispatch, Handler, HandlerRegistry};
use crate::router::{AsapService, Routes};
use crate::routes::{ManifestRoute, Readiness};
use crate::serve::{ConnectionSettings, serve, shutdown_signal};

mod envelope;
mod metrics;
mod service;
mod tasks;

pub use envelope::EnvelopeService;
pub use service::{ServerBody, ServerFuture, ServerService};
pub use tasks::PING_INTERVAL;

type PerSender = Either<
    Either<SenderRateLimit<EnvelopeService>, SharedRateLimit<EnvelopeService>>,
    EnvelopeService,
>;
type Replay = Either<NonceCheck<PerSender>, PerSender>;
type Keyed = Either<Idempotency<Replay>, Replay>;
/// The envelope-level stack: sender match → timestamp window → idempotency → nonce →
/// per-sender rate limit → dispatch (optional layers are `Either` pass-throughs).
type EnvelopeStack = SenderMatch<TimestampWindow<Keyed>>;
type Checked = Envelopes<EnvelopeStack>;
type Authenticated = Either<Auth<Checked>, Checked>;
type Endpoint = RpcEndpoint<Authenticated>;
/// The `POST /asap` stack: body limit → per-IP rate limit → decompression → JSON-RPC
/// endpoint → authentication → envelope check → [`EnvelopeStack`].
type RpcStack = BodyLimit<OptionalRateLimit<Decompression<Endpoint>>>;
/// The whole server: routes, with large responses compressed when the client accepts it,
/// each request in its span and on the access log.
type Assembled = AccessLog<ResponseCompression<AsapService<RpcStack>>>;

/// Why a server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The manifest breaks a protocol rule.
    #[error("invalid manifest: {0}")]
    Manifest(asap_model::ValidationError),
    /// The manifest declares `auth` but no token validator was given (the reference refuses
    /// to start in this case too).
    #[error("the manifest declares authentication but no token validator is configured")]
    MissingValidator,
}

/// Builds an [`AsapServer`].
///
/// ```
/// use asap_transport_server::{AsapServer, ServerConfig, echo::{EchoHandler, demo_manifest}};
///
/// let manifest = demo_manifest("http://127.0.0.1:8000/asap");
/// let server = AsapServer::builder(manifest.clone())
///     .config(ServerConfig::builder().rate_limit(None).build())
///     .handler("task.request", EchoHandler::new(manifest.id.clone()))
///     .build()
///     .unwrap();
/// let service = server.service(); // a tower::Service<http::Request<B>>
/// # let _ = service;
/// ```
///
/// # Hooks
///
/// Middleware plugs in at two levels without changing this crate:
///
/// - [`layer`](Self::layer): HTTP level, around the whole [`ServerService`] (every route,
///   every response, after compression). Generic, like tonic's `Server::layer`: the layer's
///   service is the server's service type, so it costs only what the layer does. The
///   built service must stay infallible (`Error = Infallible`) to be served by
///   [`AsapServer::run`].
/// - [`envelope_layer`](Self::envelope_layer): envelope level, a `tower::Layer` over
///   [`EnvelopeService`] (`Service<AsapRequest, Response = Envelope, Error = Rejection>`),
///   after the protocol's envelope checks and before the handler, like jsonrpsee's
///   `set_rpc_middleware`. Boxed, because this level is inside the opaque
///   [`ServerService`]: each hook costs two allocations per request (its future, and the
///   clone of the boxed service that goes with the request), about 780 instructions or
///   1.2 % of an in-process `POST /asap` (`benches/README.md`, § Server); none is paid when
///   no hook is set. Compose several layers into one (`tower::ServiceBuilder`) to pay it
///   once.
///
/// ```
/// use asap_transport_server::{AsapServer, ServerBody, echo::{EchoHandler, demo_manifest}};
/// use tower::util::MapResponseLayer;
///
/// let manifest = demo_manifest("http://127.0.0.1:8000/asap");
/// let server = AsapServer::builder(manifest.clone())
///     .handler("task.request", EchoHandler::new(manifest.id.clone()))
///     // HTTP level: any tower layer whose service stays infallible.
///     .layer(MapResponseLayer::new(|mut response: http::Response<ServerBody>| {
///         response.headers_mut().insert("x-agent", http::HeaderValue::from_static("echo"));
///         response
///     }))
///     // Envelope level: sees every accepted envelope before its handler.
///     .envelope_layer(tower::layer::layer_fn(|inner| inner))
///     .build()
///     .unwrap();
/// # let _ = server;
/// ```
pub struct AsapServerBuilder<L = Identity> {
    manifest: Manifest,
    config: ServerConfig,
    registry: HandlerRegistry,
    validator: Option<Arc<dyn TokenValidator>>,
    nonce_store: Option<Arc<dyn NonceStore>>,
    http_layer: L,
    envelope_hooks: Vec<envelope::Hook>,
    stores: tasks::Stores,
    observers: Observers,
    metrics: Option<Arc<Metrics>>,
}

impl<L> std::fmt::Debug for AsapServerBuilder<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsapServerBuilder")
            .field("manifest", &self.manifest.id)
            .field("config", &self.config)
            .field("registry", &self.registry)
            .field("envelope_hooks", &self.envelope_hooks.len())
            .finish_non_exhaustive()
    }
}

impl<L> AsapServerBuilder<L> {
    /// Replaces the configuration (default: [`ServerConfig::default`]).
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Registers an async handler.
    #[must_use]
    pub fn handler(mut self, payload_type: impl Into<String>, handler: impl Handler) -> Self {
        self.registry.register(payload_type, handler);
        self
    }

    /// Registers a blocking handler (runs on the bounded pool).
    #[must_use]
    pub fn blocking_handler(
        mut self,
        payload_type: impl Into<String>,
        handler: impl BlockingHandler,
    ) -> Self {
        self.registry.register_blocking(payload_type, handler);
        self
    }

    /// Replaces the whole registry.
    #[must_use]
    pub fn registry(mut self, registry: HandlerRegistry) -> Self {
        self.registry = registry;
        self
    }

    /// Validates bearer tokens; required when the manifest declares `auth`.
    #[must_use]
    pub fn token_validator(mut self, validator: impl TokenValidator) -> Self {
        self.validator = Some(Arc::new(validator));
        self
    }

    /// Nonce store used when `require_nonce` is on (default: in memory, bounded). An
    /// `Arc<dyn asap_state::NonceStore>` (a store shared by replicas) is one.
    #[must_use]
    pub fn nonce_store(mut self, store: impl NonceStore + 'static) -> Self {
        self.nonce_store = Some(Arc::new(store));
        self
    }

    /// Makes keyed requests idempotent with `store` (see [`layers::idempotency`]): the
    /// handler runs once per sender and key, retries get the stored response. Unset
    /// durations of `config` are derived from the server's configuration (set it first).
    /// Requests without a key are not affected; without this call nothing is added.
    ///
    /// [`layers::idempotency`]: crate::layers::idempotency
    #[must_use]
    pub fn idempotency(
        mut self,
        store: Arc<dyn asap_state::IdempotencyStore>,
        config: IdempotencyConfig,
    ) -> Self {
        self.stores.idempotency = Some((store, config));
        self
    }

    /// Counts the rate limit in `store` instead of in process, so that replicas sharing the
    /// store share one budget (see [`SharedRateLimitLayer`] for where it runs and why a
    /// failing store lets requests through). Without a configured rate limit it does nothing.
    #[must_use]
    pub fn rate_limit_store(mut self, store: Arc<dyn asap_state::RateLimitStore>) -> Self {
        self.stores.rate_limits = Some(store);
        self
    }

    /// Answers `state.query` and `state.restore` from `store` with the built-in
    /// [`state_handlers`](crate::state_handlers), unless handlers for them are registered
    /// (before or after this call). Without a store they get `-32601`, as from the reference.
    #[must_use]
    pub fn snapshots(mut self, store: Arc<dyn asap_state::SnapshotStore>) -> Self {
        self.stores.snapshots = Some(store);
        self
    }

    /// Runs `runtime`'s long-running skills (see [`long_running`](crate::long_running)):
    /// `task.request`s for them are submitted to it and answered `working` at once, behind
    /// the idempotency layer when one is set; the tasks it left `working` are resumed (or
    /// failed) when [`AsapServer::store_tasks`] starts.
    #[must_use]
    pub fn task_runtime(mut self, runtime: crate::long_running::TaskRuntime) -> Self {
        self.stores.task_runtime = Some(runtime);
        self
    }

    /// Makes `/ready` depend on `store`: not ready while its [`ping`](asap_state::Ping::ping)
    /// fails, ready again once it answers. The store is pinged every [`PING_INTERVAL`] by
    /// [`AsapServer::store_tasks`] (run by [`AsapServer::run`]); until the first answer the
    /// server is not ready.
    #[must_use]
    pub fn ping_store(mut self, store: Arc<dyn asap_state::Ping>) -> Self {
        self.stores.pings.push(store);
        self
    }

    /// Reports every answered `POST /asap` request and every handler run to `observer`
    /// (called on the request's task: keep it short). Several observers may be added.
    #[must_use]
    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observers.push(observer);
        self
    }

    /// Counts requests, errors and handler runs in `metrics` (PROTOCOL §14.1) and serves
    /// them at `GET /asap/metrics`, in the 0.0.4 text format or OpenMetrics as the scraper's
    /// `Accept` asks. With an idempotency store, its counters are exported too
    /// (`asap_idempotency_runs_total`, `…_replays_total`, …). Without this call the path
    /// answers 404 and no request pays for counting.
    #[must_use]
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.observers.push(metrics.clone());
        self.metrics = Some(metrics);
        self
    }

    /// Adds an HTTP-level layer around the whole server (see [Hooks](Self#hooks)). Layers
    /// added later wrap the ones added before.
    #[must_use]
    pub fn layer<N>(self, layer: N) -> AsapServerBuilder<Stack<L, N>> {
        AsapServerBuilder {
            manifest: self.manifest,
            config: self.config,
            registry: self.registry,
            validator: self.validator,
            nonce_store: self.nonce_store,
            http_layer: Stack::new(self.http_layer, layer),
            envelope_hooks: self.envelope_hooks,
            stores: self.stores,
            observers: self.observers,
            metrics: self.metrics,
        }
    }

    /// Adds an envelope-level layer in front of the handlers (see [Hooks](Self#hooks)).
    /// Layers added later wrap the ones added before.
    #[must_use]
    pub fn envelope_layer<E>(mut self, layer: E) -> Self
    where
        E: tower_layer::Layer<EnvelopeService> + Send + Sync + 'static,
        E::Service: tower_service::Service<
                AsapRequest,
                Response = asap_model::Envelope,
                Error = crate::Rejection,
            > + Clone
            + Send
            + Sync
            + 'static,
        <E::Service as tower_service::Service<AsapRequest>>::Future: Send + 'static,
    {
        self.envelope_hooks.push(envelope::hook(layer));
        self
    }

    /// Assembles the layers.
    pub fn build(self) -> Result<AsapServer<L::Service>, BuildError>
    where
        L: tower_layer::Layer<ServerService>,
    {
        self.manifest.validate().map_err(BuildError::Manifest)?;
        let mut registry = self.registry;
        if let Some(store) = self.stores.snapshots {
            let agent = self.manifest.id.clone();
            if !registry.contains("state.query") {
                registry.register(
                    "state.query",
                    crate::state_handlers::StateQueryHandler::new(store.clone(), agent.clone()),
                );
            }
            if !registry.contains("state.restore") {
                registry.register(
                    "state.restore",
                    crate::state_handlers::StateRestoreHandler::new(store, agent),
                );
            }
        }
        let config = self.config;
        let rate_limit = config.rate_limit.clone();

        let observation = (!self.observers.is_empty()).then(|| {
            let observer: Arc<dyn Observer> = Arc::new(self.observers);
            crate::observe::Observation::new(observer, registry.payload_types())
        });
        let mut dispatch = Dispatch::new(registry)
            .with_pool(BlockingPool::new(config.max_threads.max(1)))
            .with_debug(config.debug)
            .with_payload_validation(config.validate_payloads);
        if let Some(observation) = &observation {
            dispatch = dispatch.with_observer(observation.observer().clone());
        }
        let dispatch = self
            .envelope_hooks
            .iter()
            .fold(EnvelopeService::dispatch(dispatch), |inner, hook| {
                hook(inner)
            });
        let mut background = tasks::Background::default();
        let dispatch = match self.stores.task_runtime {
            Some(runtime) => {
                let layer = crate::long_running::LongRunningLayer::new(
                    runtime.clone(),
                    self.manifest.id.clone(),
                );
                if let Some(observation) = &observation {
                    runtime.observe(observation.observer().clone());
                }
                background.resume = Some(runtime);
                envelope::hook(layer)(dispatch)
            }
            None => dispatch,
        };
        let shared_limits = self.stores.rate_limits.clone();
        let per_sender = match (&rate_limit, config.rate_limit_key, &shared_limits) {
            (Some(spec), key, Some(store)) => Either::Left(Either::Right(tower::Layer::layer(
                &SharedRateLimitLayer::new(store.clone(), spec, key),
                dispatch,
            ))),
            (Some(spec), RateLimitKey::Sender, None) => Either::Left(Either::Left(
                tower::Layer::layer(&SenderRateLimitLayer::new(spec), dispatch),
            )),
            _ => Either::Right(dispatch),
        };
        let replay = if config.require_nonce {
            let store = self.nonce_store.unwrap_or_else(|| {
                Arc::new(MemoryNonceStore::with_capacity(config.nonce_capacity))
            });
            Either::Left(tower::Layer::layer(
                &NonceLayer::new(store).with_ttl(config.nonce_ttl),
                per_sender,
            ))
        } else {
            Either::Right(per_sender)
        };
        // Before the nonce check: a retry resends its envelope with the same nonce, and must
        // get the first run's response rather than a replay refusal (docs/adr/0008).
        let keyed = match self.stores.idempotency {
            Some((store, idempotency)) => {
                let layer = IdempotencyLayer::for_server(
                    store.clone(),
                    &idempotency,
                    &config,
                    observation.clone(),
                );
                if let Some(metrics) = &self.metrics {
                    metrics::idempotency(metrics, layer.counters());
                }
                background.purge = Some((store, idempotency, layer.counters()));
                Either::Left(tower::Layer::layer(&layer, replay))
            }
            None => Either::Right(replay),
        };
        let window = TimestampWindowLayer::new()
            .with_max_age(config.max_envelope_age)
            .with_max_future(config.max_future_tolerance);
        let envelope_stack = SenderMatch::new(tower::Layer::layer(&window, keyed));
        let checked = Envelopes::new(envelope_stack);
        let authenticated = match &self.manifest.auth {
            Some(schemes) => {
                let validator = self.validator.ok_or(BuildError::MissingValidator)?;
                Either::Left(tower::Layer::layer(
                    &AuthLayer::from_arc(validator, schemes),
                    checked,
                ))
            }
            None => Either::Right(checked),
        };
        let endpoint = RpcEndpoint::from_rpc(authenticated)
            .observed(observation.clone())
            .with_debug_log(config.debug_log);
        let decompressed =
            Decompression::new(endpoint, config.max_request_size).observed(observation.clone());
        let limited = match (&rate_limit, config.rate_limit_key) {
            (Some(spec), RateLimitKey::PeerIp) if shared_limits.is_none() => OptionalRateLimit::on(
                tower::Layer::layer(&RateLimitLayer::new(spec), decompressed)
                    .observed(observation.clone()),
            ),
            _ => OptionalRateLimit::off(decompressed),
        };
        let rpc = BodyLimit::new(limited, config.max_request_size);
        let routes = Routes {
            manifest: ManifestRoute::new(&self.manifest),
            agent_id: self.manifest.id.to_string(),
            version: self.manifest.version.clone(),
            started: Instant::now(),
            readiness: Readiness::new(),
            metrics: self.metrics,
        };
        let service = ServerService::new(AccessLog::new(
            ResponseCompression::new(AsapService::new(rpc, routes), config.response_compression)
                .observed(observation.clone()),
        ));
        let readiness = service.readiness().clone();
        for store in self.stores.pings {
            let reachable = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = reachable.clone();
            readiness.add_check(move || flag.load(std::sync::atomic::Ordering::Acquire));
            background.pings.push((store, reachable));
        }
        Ok(AsapServer {
            service: self.http_layer.layer(service),
            readiness,
            config,
            background: Arc::new(background),
        })
    }
}

/// An ASAP agent server: its service ([`ServerService`], or what the HTTP-level hooks made
/// of it) plus how to run it.
#[derive(Debug, Clone)]
pub struct AsapServer<S = ServerService> {
    service: S,
    readiness: crate::routes::Readiness,
    config: ServerConfig,
    background: Arc<tasks::Background>,
}

impl AsapServer {
    /// Starts building a server for `manifest`.
    pub fn builder(manifest: Manifest) -> AsapServerBuilder {
        AsapServerBuilder {
            manifest,
            config: ServerConfig::default(),
            registry: HandlerRegistry::new(),
            validator: None,
            nonce_store: None,
            http_layer: Identity::new(),
            envelope_hooks: Vec::new(),
            stores: tasks::Stores::default(),
            observers: Observers::new(),
            metrics: None,
        }
    }
}

impl<S: Clone> AsapServer<S> {
    /// The whole server as a `tower::Service`, to mount in hyper or axum.
    pub fn service(&self) -> S {
        self.service.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Readiness of `/ready`. The accept loop sets it; when the service is mounted in another
    /// server, call `set_ready(true)` once that server listens.
    pub fn readiness(&self) -> &crate::routes::Readiness {
        &self.readiness
    }

    /// The idempotency layer's counters, when [`AsapServerBuilder::idempotency`] set a store.
    pub fn idempotency_counters(
        &self,
    ) -> Option<Arc<crate::layers::idempotency::IdempotencyCounters>> {
        self.background.purge.as_ref().map(|(_, _, c)| c.clone())
    }

    /// The stores' background work, forever: purging expired idempotency records and pinging
    /// the [`ping_store`](AsapServerBuilder::ping_store)s for `/ready`. [`run`](Self::run)
    /// and [`serve_with_shutdown`](Self::serve_with_shutdown) spawn it; spawn it yourself when
    /// the service is mounted in another server. Pending forever when there is nothing to do.
    pub fn store_tasks(&self) -> impl Future<Output = ()> + Send + 'static {
        tasks::run(self.background.clone())
    }
}

impl<S, B> AsapServer<S>
where
    S: tower_service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<B>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<crate::registry::BoxError>,
{
    /// Binds `config.bind` and serves until Ctrl-C or SIGTERM.
    pub async fn run(self) -> io::Result<()> {
        let listener = crate::serve::bind(self.config.bind)?;
        self.serve_with_shutdown(listener, shutdown_signal()).await
    }

    /// Serves on `listener` until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> io::Result<()> {
        let readiness = self.readiness.clone();
        let settings = ConnectionSettings::from(&self.config);
        let background = (!self.background.is_empty())
            .then(|| tasks::AbortOnDrop(tokio::spawn(tasks::run(self.background.clone()))));
        let served = serve(listener, self.service, settings, readiness, shutdown).await;
        drop(background);
        served
    }
}

/// Never fails: the service's error type is `Infallible`.
const _: fn() = || {
    fn assert_infallible<
        S: tower_service::Service<http::Request<hyper::body::Incoming>, Error = Infallible>,
    >() {
    }
    assert_infallible::<ServerService>();
};
