//! The process's `tracing` subscriber (PROTOCOL §14.2): console text for people, or JSON
//! lines for machines.
//!
//! [`LogConfig::layer`] is the main entry point: a [`Layer`] (the formatter with its level
//! filter) that a service composes into its own subscriber, next to its other layers.
//! [`LogConfig::init`] is the shortcut for programs that have no subscriber of their own: it
//! installs a registry with that layer as the global default.
//!
//! # JSON lines
//!
//! With [`LogFormat::Json`], each event is one line holding, in this order, `event`,
//! `level` (lower case), `logger` (the event's target, a module path), `timestamp` (UTC,
//! microseconds, `Z`), `service`, then the fields of the spans in scope and of the event,
//! at the top level:
//!
//! ```text
//! {"event":"asap.request.received","level":"info","logger":"asap_transport_server","timestamp":"2026-12-04T06:27:23.454820Z","service":"asap-protocol","envelope_id":"…","trace_id":"…"}
//! ```
//!
//! `event` is the event's `event` field when it has one (the names of §14.2 are in
//! [`event`]), otherwise its message. When both are given, the message stays as `message`.
//! A field named like one of the five leading members is written as `fields.<name>`. Span
//! fields named `otel.*` (tracing-opentelemetry's span name, kind and status) are left out. Field
//! values are written as given: pass request data through
//! [`sanitize_for_logging`](crate::redact::sanitize_for_logging) first (§11.6).
//!
//! # Console
//!
//! [`LogFormat::Console`] is tracing-subscriber's default text format, colored only when
//! standard output is a terminal and `NO_COLOR` is not set.
//!
//! ```
//! use asap_observability::logging::{LogConfig, LogFormat, event};
//! use tracing_subscriber::prelude::*;
//!
//! let config = LogConfig::default().with_format(LogFormat::Json).with_service_name("echo-agent");
//! let subscriber = tracing_subscriber::registry().with(config.layer()?);
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::info!(event = event::RECEIVED, envelope_id = "01J…");
//! });
//! # Ok::<(), asap_observability::logging::InitError>(())
//! ```

pub mod event;
mod json;

use std::fmt;
use std::io::IsTerminal;
use std::str::FromStr;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable text (`ASAP_LOG_FORMAT=console`, the default).
    #[default]
    Console,
    /// One JSON object per line (`ASAP_LOG_FORMAT=json`), see the [module documentation](self#json-lines).
    Json,
}

impl FromStr for LogFormat {
    type Err = ConfigError;

    /// `console` or `json`, in any case, surrounding whitespace ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "console" => Ok(LogFormat::Console),
            "json" => Ok(LogFormat::Json),
            _ => Err(ConfigError::Format {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Console => "console",
            LogFormat::Json => "json",
        })
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `ASAP_LOG_FORMAT` is neither `console` nor `json`.
    #[error("ASAP_LOG_FORMAT is {value:?}; the accepted values are \"console\" and \"json\"")]
    Format {
        /// The value given.
        value: String,
    },
}

/// Why the subscriber could not be built or installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// The level is not a valid filter directive.
    #[error("log level {directive:?} is not a valid filter: {source}")]
    Level {
        /// The directive given.
        directive: String,
        /// What is wrong with it.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// A global subscriber was installed before (by this crate or another).
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[source] tracing::subscriber::SetGlobalDefaultError),
}

/// The logging configuration: format, level filter and service name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogConfig {
    /// Console text or JSON lines.
    pub format: LogFormat,
    /// An [`EnvFilter`] directive: a level (`info`, `DEBUG`) or per-target directives
    /// (`info,asap_transport_server=debug`). Default `info`.
    pub level: String,
    /// The `service` member of JSON lines. Default `asap-protocol`.
    pub service_name: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Console,
            level: "info".to_owned(),
            service_name: "asap-protocol".to_owned(),
        }
    }
}

impl LogConfig {
    /// The configuration from the environment (PROTOCOL §17):
    ///
    /// - `ASAP_LOG_FORMAT`: `console` (default) or `json`, any case; anything else is a
    ///   [`ConfigError`];
    /// - `RUST_LOG`, if set, is the filter; otherwise `ASAP_LOG_LEVEL`, otherwise `info`.
    ///   `RUST_LOG` wins because it is how Rust programs are tuned per module, and whoever
    ///   sets it means it. `ASAP_LOG_LEVEL` also accepts the reference's `WARNING` and
    ///   `CRITICAL`;
    /// - `ASAP_SERVICE_NAME`: the `service` member, default `asap-protocol`.
    ///
    /// A variable set to the empty string counts as unset.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read from `lookup` instead of the
    /// process environment.
    ///
    /// ```
    /// use asap_observability::logging::{LogConfig, LogFormat};
    ///
    /// let config = LogConfig::from_lookup(|name| match name {
    ///     "ASAP_LOG_FORMAT" => Some("JSON".to_owned()),
    ///     "ASAP_LOG_LEVEL" => Some("WARNING".to_owned()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.format, LogFormat::Json);
    /// assert_eq!(config.level, "warn");
    /// assert_eq!(config.service_name, "asap-protocol");
    ///
    /// let refused = LogConfig::from_lookup(|name| (name == "ASAP_LOG_FORMAT").then(|| "xml".to_owned()));
    /// assert!(refused.unwrap_err().to_string().contains("\"console\" and \"json\""));
    /// # Ok::<(), asap_observability::logging::ConfigError>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut config = LogConfig::default();
        if let Some(format) = var("ASAP_LOG_FORMAT") {
            config.format = format.parse()?;
        }
        if let Some(filter) = var("RUST_LOG") {
            config.level = filter;
        } else if let Some(level) = var("ASAP_LOG_LEVEL") {
            config.level = match level.trim().to_ascii_lowercase().as_str() {
                "warning" => "warn".to_owned(),
                "critical" | "fatal" => "error".to_owned(),
                _ => level,
            };
        }
        if let Some(service) = var("ASAP_SERVICE_NAME") {
            config.service_name = service;
        }
        Ok(config)
    }

    /// This configuration with another format.
    pub fn with_format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// This configuration with another level filter (see [`level`](Self::level)).
    pub fn with_level(mut self, level: impl Into<String>) -> Self {
        self.level = level.into();
        self
    }

    /// This configuration with another service name.
    pub fn with_service_name(mut self, service_name: impl Into<String>) -> Self {
        self.service_name = service_name.into();
        self
    }

    /// The formatting layer, writing to standard output, filtered by [`level`](Self::level)
    /// (a per-layer filter: the subscriber's other layers see every event).
    pub fn layer<S>(&self) -> Result<impl Layer<S> + Send + Sync + 'static, InitError>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.build_layer(std::io::stdout, Self::stdout_wants_color())
    }

    /// [`layer`](Self::layer) writing to `writer` instead (a file, a buffer in tests), without
    /// colors.
    pub fn layer_with_writer<S, W>(
        &self,
        writer: W,
    ) -> Result<impl Layer<S> + Send + Sync + 'static, InitError>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.build_layer(writer, false)
    }

    /// [`layer_with_writer`](Self::layer_with_writer), colored when `ansi` is true (console
    /// format only): for a writer that ends up on a terminal, such as a non-blocking
    /// wrapper of standard output.
    pub fn layer_with_writer_colored<S, W>(
        &self,
        writer: W,
        ansi: bool,
    ) -> Result<impl Layer<S> + Send + Sync + 'static, InitError>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.build_layer(writer, ansi)
    }

    /// Whether [`layer`](Self::layer) colors its output: standard output is a terminal and
    /// `NO_COLOR` is unset or empty.
    pub fn stdout_wants_color() -> bool {
        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
    }

    fn build_layer<S, W>(
        &self,
        writer: W,
        ansi: bool,
    ) -> Result<Box<dyn Layer<S> + Send + Sync + 'static>, InitError>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        let directive = if self.level.trim().is_empty() {
            "info"
        } else {
            self.level.as_str()
        };
        let filter = EnvFilter::try_new(directive).map_err(|source| InitError::Level {
            directive: self.level.clone(),
            source,
        })?;
        // A failed write (standard output closed) is not reported on standard error: that
        // may be closed too, and the request that logged must not notice either way.
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .log_internal_errors(false);
        Ok(match self.format {
            LogFormat::Console => fmt.with_ansi(ansi).with_filter(filter).boxed(),
            LogFormat::Json => fmt
                .with_ansi(false)
                .fmt_fields(JsonFields::new())
                .event_format(json::JsonLines {
                    service: self.service_name.clone(),
                })
                .with_filter(filter)
                .boxed(),
        })
    }

    /// Installs a registry with [`layer`](Self::layer) as the process's global subscriber.
    /// Fails if a global subscriber is already installed.
    ///
    /// ```no_run
    /// use asap_observability::logging::LogConfig;
    ///
    /// LogConfig::from_env()?.init()?;
    /// tracing::info!("listening");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn init(self) -> Result<(), InitError> {
        let subscriber = tracing_subscriber::registry().with(self.layer()?);
        tracing::subscriber::set_global_default(subscriber).map_err(InitError::AlreadyInstalled)
    }
}
