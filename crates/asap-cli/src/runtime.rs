//! How `asap serve` lays out its threads: tokio's work-stealing pool, or one current-thread
//! runtime per worker sharing the listening socket (thread-per-core).

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context as _;
use asap_transport_server::serve::ConnectionSettings;

/// Thread layout of `asap serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Layout {
    /// One multi-thread tokio runtime: connections are tasks any worker may steal.
    WorkStealing,
    /// One current-thread runtime per worker, each accepting from the same listening
    /// socket: a connection stays on the thread that accepted it, with no cross-thread
    /// wake-ups or task migration. The connection bounds hold per worker.
    ThreadPerCore,
}

/// What `prepare` gives: the server, and a line about its state stores.
type Prepared = (crate::serve::Served, String);

/// Builds the server with `prepare` (on the runtime that keeps running: the stores' pools
/// and background tasks live there), then serves it on its configured address with
/// `workers` threads laid out as `layout`, until Ctrl-C or SIGTERM. `on_listening` is
/// called once with the bound address and the state line.
pub(crate) fn run<P, F>(
    prepare: P,
    workers: usize,
    layout: Layout,
    on_listening: impl FnOnce(SocketAddr, &str),
) -> anyhow::Result<()>
where
    P: FnOnce() -> F,
    F: Future<Output = anyhow::Result<Prepared>>,
{
    match layout {
        Layout::WorkStealing => work_stealing(prepare, workers, on_listening),
        Layout::ThreadPerCore => thread_per_core(prepare, workers, on_listening),
    }
}

fn work_stealing<P, F>(
    prepare: P,
    workers: usize,
    on_listening: impl FnOnce(SocketAddr, &str),
) -> anyhow::Result<()>
where
    P: FnOnce() -> F,
    F: Future<Output = anyhow::Result<Prepared>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(workers)
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let (server, state) = prepare().await?;
        let bind = server.config().bind;
        let listener = listen(bind)?;
        let shutdown = armed_shutdown_signal().await;
        on_listening(listener.local_addr().unwrap_or(bind), &state);
        server
            .serve_with_shutdown(listener, shutdown)
            .await
            .context("server failed")
    })
}

fn thread_per_core<P, F>(
    prepare: P,
    workers: usize,
    on_listening: impl FnOnce(SocketAddr, &str),
) -> anyhow::Result<()>
where
    P: FnOnce() -> F,
    F: Future<Output = anyhow::Result<Prepared>>,
{
    // The signal handler, the stores' background work and the listening socket live on the
    // calling thread's runtime; each worker registers its own duplicate of the socket with
    // its own reactor. A shared socket (rather than one SO_REUSEPORT socket per worker, which
    // the kernel balances by a hash of the peer's address and port) lets whichever worker is
    // free accept next.
    let main = current_thread()?;
    let (server, state) = main.block_on(prepare())?;
    let bind = server.config().bind;
    let listener = main.block_on(async { listen(bind) })?;
    let local = listener.local_addr().unwrap_or(bind);
    let listener = listener
        .into_std()
        .context("cannot detach the listening socket")?;
    // Each worker keeps its own connection registry, so the connection bounds
    // (`max_connections`, `max_connections_per_ip`) hold per worker: the process as a whole
    // may hold up to `workers` times as many. Splitting them instead would let an uneven
    // spread of accepts close idle connections on one worker while the other has room.
    let settings = ConnectionSettings::from(server.config());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let socket = listener
            .try_clone()
            .context("cannot share the listening socket")?;
        let service = server.service();
        let readiness = server.readiness().clone();
        let settings = settings.clone();
        let mut stopped = stopped.clone();
        let thread = std::thread::Builder::new()
            .name(format!("asap-worker-{index}"))
            .spawn(move || -> anyhow::Result<()> {
                let runtime = current_thread()?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(socket)
                        .context("cannot register the listening socket")?;
                    let shutdown = async move {
                        let _ = stopped.wait_for(|stop| *stop).await;
                    };
                    asap_transport_server::serve::serve(
                        listener, service, settings, readiness, shutdown,
                    )
                    .await
                    .context("server failed")
                })
            })
            .context("cannot start a worker thread")?;
        threads.push(thread);
    }
    drop(listener);
    let shutdown = main.block_on(armed_shutdown_signal());
    on_listening(local, &state);
    main.block_on(async {
        tokio::select! {
            () = shutdown => {},
            () = any_ended(&threads) => {},
            () = server.store_tasks() => {},
        }
    });
    let _ = stop.send(true);
    let mut result = Ok(());
    for thread in threads {
        match thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => result = result.and(Err(error)),
            Err(_) => result = result.and(Err(anyhow::anyhow!("a worker thread panicked"))),
        }
    }
    result
}

/// The Ctrl-C / SIGTERM future, polled once so that its signal handlers are installed:
/// whoever reads the listening line may stop the server at once, and a SIGTERM arriving
/// before the handlers would kill the process instead of stopping it.
pub(crate) async fn armed_shutdown_signal() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    let mut signal: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> =
        Box::pin(asap_transport_server::serve::shutdown_signal());
    let came =
        std::future::poll_fn(|cx| std::task::Poll::Ready(signal.as_mut().poll(cx).is_ready()))
            .await;
    if came {
        // A signal during start-up: a finished future must not be polled again.
        Box::pin(std::future::ready(()))
    } else {
        signal
    }
}

/// Resolves when any worker has ended on its own (a failed worker stops all of them).
async fn any_ended(threads: &[std::thread::JoinHandle<anyhow::Result<()>>]) {
    while !threads.iter().any(std::thread::JoinHandle::is_finished) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

fn current_thread() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn listen(bind: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    asap_transport_server::serve::bind(bind).with_context(|| format!("cannot listen on {bind}"))
}
