//! Which exporter, where: the standard `OTEL_*` variables.

use std::time::Duration;

/// How spans leave the process.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracesExporter {
    /// Not at all: no provider is started.
    None,
    /// OTLP to a collector.
    Otlp {
        /// gRPC or HTTP/protobuf.
        protocol: OtlpProtocol,
        /// The traces endpoint: `http://host:4317` for gRPC, the full
        /// `http://host:4318/v1/traces` URL for HTTP.
        endpoint: String,
    },
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (`grpc`).
    Grpc,
    /// OTLP/HTTP with protobuf bodies (`http/protobuf`).
    HttpProtobuf,
}

/// A variable with a value this crate cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable} is {value:?}; {expected}")]
pub struct OtelConfigError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// What it accepts.
    pub expected: &'static str,
}

/// The OpenTelemetry configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtelConfig {
    /// Where spans go.
    pub exporter: TracesExporter,
    /// The resource's `service.name`.
    pub service_name: String,
    /// How long one export may take (`OTEL_EXPORTER_OTLP_TIMEOUT`, default 10 s).
    pub timeout: Duration,
    /// Whether `service_name` came from `OTEL_SERVICE_NAME`.
    service_name_set: bool,
}

impl Default for OtelConfig {
    /// No exporter; service `asap-server`.
    fn default() -> Self {
        Self {
            exporter: TracesExporter::None,
            service_name: "asap-server".to_owned(),
            timeout: Duration::from_secs(10),
            service_name_set: false,
        }
    }
}

const GRPC_DEFAULT: &str = "http://localhost:4317";
const HTTP_DEFAULT: &str = "http://localhost:4318";

impl OtelConfig {
    /// The configuration from the environment:
    ///
    /// - `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER=none`: no exporter;
    /// - `OTEL_TRACES_EXPORTER=otlp`, or unset while `OTEL_EXPORTER_OTLP_ENDPOINT` or
    ///   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set: OTLP. With none of these set nothing
    ///   is exported (the OpenTelemetry default would be to try `localhost`);
    /// - `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc`
    ///   (the default) or `http/protobuf`;
    /// - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else `OTEL_EXPORTER_OTLP_ENDPOINT`
    ///   (with `/v1/traces` appended for HTTP), else `localhost` on the protocol's port;
    /// - `OTEL_SERVICE_NAME`: the service name (default `asap-server`);
    /// - `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds).
    pub fn from_env() -> Result<Self, OtelConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read from `lookup`.
    ///
    /// ```
    /// use asap_observability::otel::{OtelConfig, OtlpProtocol, TracesExporter};
    ///
    /// let config = OtelConfig::from_lookup(|name| match name {
    ///     "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://collector:4318".to_owned()),
    ///     "OTEL_EXPORTER_OTLP_PROTOCOL" => Some("http/protobuf".to_owned()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(
    ///     config.exporter,
    ///     TracesExporter::Otlp {
    ///         protocol: OtlpProtocol::HttpProtobuf,
    ///         endpoint: "http://collector:4318/v1/traces".to_owned(),
    ///     }
    /// );
    /// assert_eq!(OtelConfig::from_lookup(|_| None)?.exporter, TracesExporter::None);
    /// # Ok::<(), asap_observability::otel::OtelConfigError>(())
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, OtelConfigError> {
        let var = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut config = OtelConfig::default();
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            config.service_name = name;
            config.service_name_set = true;
        }
        if let Some(ms) = var("OTEL_EXPORTER_OTLP_TIMEOUT") {
            let ms: u64 = ms.parse().map_err(|_| OtelConfigError {
                variable: "OTEL_EXPORTER_OTLP_TIMEOUT",
                value: ms.clone(),
                expected: "a number of milliseconds",
            })?;
            config.timeout = Duration::from_millis(ms.max(1));
        }
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(config);
        }
        let traces_endpoint = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
        let base_endpoint = var("OTEL_EXPORTER_OTLP_ENDPOINT");
        let wanted = match var("OTEL_TRACES_EXPORTER") {
            None => traces_endpoint.is_some() || base_endpoint.is_some(),
            Some(v) if v.eq_ignore_ascii_case("none") => false,
            Some(v) if v.eq_ignore_ascii_case("otlp") => true,
            Some(v) => {
                return Err(OtelConfigError {
                    variable: "OTEL_TRACES_EXPORTER",
                    value: v,
                    expected: "the accepted values are \"otlp\" and \"none\"",
                });
            }
        };
        if !wanted {
            return Ok(config);
        }
        let (variable, protocol) = match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") {
            Some(p) => ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Some(p)),
            None => (
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                var("OTEL_EXPORTER_OTLP_PROTOCOL"),
            ),
        };
        let protocol = match protocol.as_deref() {
            None | Some("grpc") => OtlpProtocol::Grpc,
            Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some(other) => {
                return Err(OtelConfigError {
                    variable,
                    value: other.to_owned(),
                    expected: "the accepted values are \"grpc\" and \"http/protobuf\"",
                });
            }
        };
        let endpoint = match (traces_endpoint, base_endpoint, protocol) {
            (Some(endpoint), _, _) => endpoint,
            (None, Some(base), OtlpProtocol::Grpc) => base,
            (None, Some(base), OtlpProtocol::HttpProtobuf) => {
                format!("{}/v1/traces", base.trim_end_matches('/'))
            }
            (None, None, OtlpProtocol::Grpc) => GRPC_DEFAULT.to_owned(),
            (None, None, OtlpProtocol::HttpProtobuf) => format!("{HTTP_DEFAULT}/v1/traces"),
        };
        config.exporter = TracesExporter::Otlp { protocol, endpoint };
        Ok(config)
    }

    /// An OTLP exporter to `endpoint` (see [`TracesExporter::Otlp`]).
    pub fn otlp(protocol: OtlpProtocol, endpoint: impl Into<String>) -> Self {
        Self {
            exporter: TracesExporter::Otlp {
                protocol,
                endpoint: endpoint.into(),
            },
            ..Self::default()
        }
    }

    /// This configuration with `service_name` as the service name.
    pub fn with_service_name(mut self, service_name: impl Into<String>) -> Self {
        self.service_name = service_name.into();
        self.service_name_set = true;
        self
    }

    /// This configuration with `service_name` unless `OTEL_SERVICE_NAME` (or
    /// [`with_service_name`](Self::with_service_name)) chose one: how an agent names itself
    /// after its manifest id.
    pub fn with_default_service_name(mut self, service_name: impl Into<String>) -> Self {
        if !self.service_name_set {
            self.service_name = service_name.into();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<OtelConfig, OtelConfigError> {
        OtelConfig::from_lookup(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn nothing_is_exported_unless_asked() {
        assert_eq!(config(&[]).unwrap().exporter, TracesExporter::None);
        assert_eq!(
            config(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                ("OTEL_TRACES_EXPORTER", "none")
            ])
            .unwrap()
            .exporter,
            TracesExporter::None
        );
        assert_eq!(
            config(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                ("OTEL_SDK_DISABLED", "TRUE")
            ])
            .unwrap()
            .exporter,
            TracesExporter::None
        );
    }

    #[test]
    fn endpoints_and_protocols() {
        let otlp = |protocol, endpoint: &str| TracesExporter::Otlp {
            protocol,
            endpoint: endpoint.to_owned(),
        };
        assert_eq!(
            config(&[("OTEL_TRACES_EXPORTER", "otlp")])
                .unwrap()
                .exporter,
            otlp(OtlpProtocol::Grpc, "http://localhost:4317")
        );
        assert_eq!(
            config(&[
                ("OTEL_TRACES_EXPORTER", "otlp"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            ])
            .unwrap()
            .exporter,
            otlp(
                OtlpProtocol::HttpProtobuf,
                "http://localhost:4318/v1/traces"
            )
        );
        assert_eq!(
            config(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf"),
            ])
            .unwrap()
            .exporter,
            otlp(OtlpProtocol::HttpProtobuf, "http://c:4318/v1/traces")
        );
        assert_eq!(
            config(&[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
                ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9999"),
            ])
            .unwrap()
            .exporter,
            otlp(OtlpProtocol::Grpc, "http://t:9999")
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_accepted_ones() {
        let error = config(&[("OTEL_TRACES_EXPORTER", "zipkin")]).unwrap_err();
        assert!(
            error.to_string().contains("\"otlp\" and \"none\""),
            "{error}"
        );
        let error = config(&[
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, "OTEL_EXPORTER_OTLP_PROTOCOL");
        assert!(config(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")]).is_err());
    }

    #[test]
    fn the_service_name_of_the_environment_wins_over_the_default() {
        let named = config(&[("OTEL_SERVICE_NAME", "billing")]).unwrap();
        assert_eq!(
            named
                .with_default_service_name("urn:asap:agent:x")
                .service_name,
            "billing"
        );
        let unnamed = config(&[]).unwrap();
        assert_eq!(
            unnamed
                .with_default_service_name("urn:asap:agent:x")
                .service_name,
            "urn:asap:agent:x"
        );
    }
}
