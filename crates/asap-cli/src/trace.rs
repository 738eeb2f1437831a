//! `asap trace`: the hops of one trace, read from JSON log lines (PROTOCOL §14.4).
//!
//! The algorithm and the renderings live in `asap_observability::trace_view`; this module
//! reads the input (a file, `ASAP_TRACE_LOG`, or standard input), checks the arguments with
//! the reference's messages and exit statuses, and follows a growing log (`--follow`).
//! `--serve` hands over to `crate::trace_web`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use asap_observability::trace_view::{Trace, TraceCollector, render_ascii, render_json};

/// Exit status when the trace id is blank, the format unknown or no hop was found.
const EXIT_NOT_FOUND: u8 = 1;
/// Exit status of a usage error (as clap's).
const EXIT_USAGE: u8 = 2;
/// The environment variable naming the default log file.
const LOG_ENV: &str = "ASAP_TRACE_LOG";
/// How much of the input is read at a time.
const CHUNK: usize = 1 << 20;
/// A line longer than this (a writer that never ends its line) is skipped rather than kept
/// in memory.
const MAX_LINE: usize = 64 << 20;
/// How often a followed file is checked for new lines.
const POLL: Duration = Duration::from_millis(100);

/// Arguments of `asap trace`.
#[derive(Debug, clap::Args)]
pub(crate) struct TraceArgs {
    /// The trace id to show (compared exactly with each record's `trace_id`).
    #[arg(value_name = "TRACE_ID")]
    trace_id: Option<String>,

    /// The log to read (JSON lines); without it, the file named by ASAP_TRACE_LOG (when set
    /// and not empty), else standard input.
    #[arg(short = 'f', long = "log-file", value_name = "PATH", value_parser = existing_path)]
    log_file: Option<PathBuf>,

    /// Output format: `ascii` (one line, or a tree when the hops branch) or `json`.
    #[arg(
        short = 'o',
        long = "format",
        value_name = "ascii|json",
        default_value = "ascii"
    )]
    format: String,

    /// Keep reading the log as it grows and print the trace again whenever it changes.
    #[arg(long, conflicts_with = "serve")]
    follow: bool,

    /// With --follow: stop after the log has not grown for this long (`500ms`, `30s`, `2m`).
    #[arg(long, value_name = "DURATION", default_value = "10s", requires = "follow",
          value_parser = crate::send::parse_duration)]
    follow_timeout: Duration,

    #[command(flatten)]
    web: crate::trace_web::WebArgs,
}

/// `--log-file` must name an existing path (a usage error otherwise, exit status 2).
fn existing_path(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("Path '{text}' does not exist."))
    }
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Ascii,
    Json,
}

impl Format {
    fn render(self, trace: &Trace) -> String {
        match self {
            Self::Ascii => render_ascii(trace),
            Self::Json => render_json(trace),
        }
    }
}

/// Runs `asap trace`.
pub(crate) fn run(args: &TraceArgs) -> anyhow::Result<ExitCode> {
    let log_file = match &args.log_file {
        Some(path) => Some(path.clone()),
        // Read here rather than by clap, which would take an empty value for a file name.
        None => match std::env::var_os(LOG_ENV) {
            Some(value) if !value.is_empty() => {
                let path = PathBuf::from(value);
                if !path.exists() {
                    eprintln!(
                        "error: invalid value '{}' for '--log-file <PATH>' (from {LOG_ENV}): Path '{}' does not exist.",
                        path.display(),
                        path.display()
                    );
                    return Ok(ExitCode::from(EXIT_USAGE));
                }
                Some(path)
            }
            _ => None,
        },
    };
    if args.web.serve {
        crate::trace_web::run(&args.web, log_file.as_deref(), args.trace_id.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    let trace_id = args.trace_id.as_deref().unwrap_or("");
    if trace_id.trim().is_empty() {
        eprintln!("Error: trace_id is required. Usage: asap trace <trace-id> [--log-file PATH]");
        return Ok(ExitCode::from(EXIT_NOT_FOUND));
    }
    let format = match args.format.as_str() {
        "ascii" => Format::Ascii,
        "json" => Format::Json,
        _ => {
            eprintln!("Error: --format must be 'ascii' or 'json'");
            return Ok(ExitCode::from(EXIT_NOT_FOUND));
        }
    };
    let mut view = View::new(trace_id, format);
    if args.follow {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(follow(&mut view, log_file.as_deref(), args.follow_timeout))?;
    } else {
        match &log_file {
            Some(path) => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot read '{}'", path.display()))?;
                view.read_all(file)
                    .with_context(|| format!("cannot read '{}'", path.display()))?;
            }
            None => view
                .read_all(std::io::stdin().lock())
                .context("cannot read standard input")?,
        }
        view.lines.finish(&mut view.collector);
        view.show()?;
    }
    if view.shown == 0 {
        println!("No trace found for: {trace_id}");
        return Ok(ExitCode::from(EXIT_NOT_FOUND));
    }
    Ok(ExitCode::SUCCESS)
}

/// The trace being built, and what was last printed of it.
struct View {
    collector: TraceCollector,
    lines: Lines,
    format: Format,
    last: Option<String>,
    shown: usize,
}

impl View {
    fn new(trace_id: &str, format: Format) -> Self {
        Self {
            collector: TraceCollector::new(trace_id),
            lines: Lines::default(),
            format,
            last: None,
            shown: 0,
        }
    }

    /// Reads `input` to its end.
    fn read_all(&mut self, mut input: impl Read) -> std::io::Result<()> {
        let mut buffer = vec![0; CHUNK];
        loop {
            match input.read(&mut buffer) {
                Ok(0) => return Ok(()),
                Ok(n) => self.lines.feed(&buffer[..n], &mut self.collector),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Prints the trace if it has hops and differs from what was printed last. Renders
    /// after the first are separated by an empty line unless both are one line long.
    fn show(&mut self) -> std::io::Result<()> {
        let trace = self.collector.trace();
        if trace.hops.is_empty() {
            return Ok(());
        }
        let text = self.format.render(&trace);
        if self.last.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        if let Some(last) = &self.last
            && (last.lines().count() > 1 || text.lines().count() > 1)
        {
            out.write_all(b"\n")?;
        }
        out.write_all(text.as_bytes())?;
        out.flush()?;
        self.last = Some(text);
        self.shown += 1;
        Ok(())
    }

    /// Forgets everything read (the followed file was truncated or replaced).
    fn restart(&mut self) {
        self.collector = TraceCollector::new(self.collector.trace_id());
        self.lines = Lines::default();
    }
}

/// Splits bytes arriving in chunks into lines (ended by `\n` or `\r`, as the reference's
/// text reading does) and hands complete lines to the collector.
#[derive(Default)]
struct Lines {
    pending: Vec<u8>,
    /// The line in progress grew past [`MAX_LINE`]: drop bytes up to its end.
    skipping: bool,
}

impl Lines {
    fn feed(&mut self, mut bytes: &[u8], collector: &mut TraceCollector) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            if !self.skipping {
                self.pending.extend_from_slice(&bytes[..end]);
                collector.push_line(&String::from_utf8_lossy(&self.pending));
            }
            self.pending.clear();
            self.skipping = false;
            bytes = &bytes[end + 1..];
        }
        if !self.skipping {
            self.pending.extend_from_slice(bytes);
            if self.pending.len() > MAX_LINE {
                self.pending = Vec::new();
                self.skipping = true;
            }
        }
    }

    /// The input ended: its last line needs no newline.
    fn finish(&mut self, collector: &mut TraceCollector) {
        if !self.skipping && !self.pending.is_empty() {
            collector.push_line(&String::from_utf8_lossy(&self.pending));
        }
        self.pending.clear();
        self.skipping = false;
    }
}

/// `--follow`: reads the file as it grows (or standard input as it arrives) and prints the
/// trace each time it changes, until the file has not grown for `timeout`, standard input
/// ends, or Ctrl-C / SIGTERM.
async fn follow(view: &mut View, path: Option<&Path>, timeout: Duration) -> anyhow::Result<()> {
    let stop = asap_transport_server::serve::shutdown_signal();
    tokio::pin!(stop);
    let Some(path) = path else {
        return follow_stdin(view, stop).await;
    };
    let mut offset: u64 = 0;
    let mut grown = Instant::now();
    loop {
        match read_from(path, offset, view) {
            Ok(Look::Grew(end)) => {
                offset = end;
                grown = Instant::now();
                view.show()?;
            }
            Ok(Look::Shrank) => {
                offset = 0;
                view.restart();
                continue;
            }
            // A rotated file may be missing for a moment: same as no growth.
            Ok(Look::Same) | Err(_) => {}
        }
        if grown.elapsed() >= timeout {
            break;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = &mut stop => break,
        }
    }
    view.lines.finish(&mut view.collector);
    view.show()?;
    Ok(())
}

/// What one look at the followed file found.
enum Look {
    /// New bytes, read up to this offset.
    Grew(u64),
    /// Nothing new.
    Same,
    /// Shorter than what was read: truncated or replaced.
    Shrank,
}

/// Reads `path` from `offset` to its current end into `view`.
fn read_from(path: &Path, offset: u64, view: &mut View) -> std::io::Result<Look> {
    use std::io::Seek as _;

    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    if len < offset {
        return Ok(Look::Shrank);
    }
    if len == offset {
        return Ok(Look::Same);
    }
    file.seek(std::io::SeekFrom::Start(offset))?;
    // Only up to the length seen now; what is appended meanwhile is read next time.
    let mut taken = file.take(len - offset);
    view.read_all(&mut taken)?;
    Ok(Look::Grew(len))
}

/// `--follow` on standard input: a thread reads it (blocking reads cannot be cancelled)
/// and hands over chunks until it ends.
async fn follow_stdin(
    view: &mut View,
    mut stop: std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
) -> anyhow::Result<()> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buffer = vec![0; CHUNK];
        loop {
            match stdin.read(&mut buffer) {
                Ok(0) => return,
                Ok(n) => {
                    if tx.blocking_send(buffer[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    });
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(chunk) => {
                    view.lines.feed(&chunk, &mut view.collector);
                    view.show()?;
                }
                None => break,
            },
            () = &mut stop => break,
        }
    }
    view.lines.finish(&mut view.collector);
    view.show()?;
    Ok(())
}
