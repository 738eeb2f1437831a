//! Agent manifests, served at `/.well-known/asap/manifest.json`.

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::AsapError;
use crate::json::JsonObject;
use crate::urn::AgentUrn;
use crate::validation::{de, map_only, option_map_only, vec_map_only};
use crate::version::{ASAP_PROTOCOL_VERSION, check_pep440};

/// Authentication schemes a manifest may declare (compared lower-cased).
pub const SUPPORTED_AUTH_SCHEMES: [&str; 2] = ["basic", "bearer"];

/// An agent's self-description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Agent URN.
    pub id: AgentUrn,
    /// Display name.
    pub name: String,
    /// Agent version (PEP 440: `1.0.0`, `1.0.0-rc1`, `v1.2`, …).
    #[serde(deserialize_with = "de_version")]
    pub version: String,
    /// What the agent does.
    pub description: String,
    /// Capabilities (may be `{}`).
    #[serde(deserialize_with = "map_only")]
    pub capabilities: Capability,
    /// Endpoints.
    #[serde(deserialize_with = "map_only")]
    pub endpoints: Endpoint,
    /// Authentication; presence turns on server authentication.
    #[serde(default, deserialize_with = "de_auth")]
    pub auth: Option<AuthScheme>,
    /// Signature (never produced or verified).
    #[serde(default)]
    pub signature: Option<String>,
}

impl Manifest {
    /// Checks the rules that serde cannot see when a manifest is built in code: version
    /// format and auth schemes.
    pub fn validate(&self) -> Result<(), crate::ValidationError> {
        check_pep440(&self.version).map_err(|reason| {
            crate::ValidationError::value_error(format!(
                "Invalid semantic version '{}': {reason}",
                self.version
            ))
            .prefixed(["version"])
        })?;
        if let Some(auth) = &self.auth {
            auth.check_schemes().map_err(|e| {
                crate::ValidationError::new(e.code.as_str(), e.message).prefixed(["auth"])
            })?;
        }
        Ok(())
    }
}

/// What an agent can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// Protocol version (default `"0.1"`).
    #[serde(default = "default_asap_version")]
    pub asap_version: String,
    /// Skills.
    #[serde(default, deserialize_with = "vec_map_only")]
    pub skills: Vec<Skill>,
    /// Whether task state is persisted.
    #[serde(default)]
    pub state_persistence: bool,
    /// Whether streaming is supported.
    #[serde(default)]
    pub streaming: bool,
    /// MCP tools offered.
    #[serde(default)]
    pub mcp_tools: Vec<String>,
}

impl Default for Capability {
    fn default() -> Self {
        Self {
            asap_version: default_asap_version(),
            skills: Vec::new(),
            state_persistence: false,
            streaming: false,
            mcp_tools: Vec::new(),
        }
    }
}

fn default_asap_version() -> String {
    ASAP_PROTOCOL_VERSION.to_owned()
}

/// A skill an agent offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Skill {
    /// Skill id (used as `TaskRequest.skill_id`).
    pub id: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of the input.
    #[serde(default)]
    pub input_schema: Option<JsonObject>,
    /// JSON Schema of the output.
    #[serde(default)]
    pub output_schema: Option<JsonObject>,
}

/// Where to reach an agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Full URL of the `POST` endpoint.
    pub asap: String,
    /// Event stream URL (informational).
    #[serde(default)]
    pub events: Option<String>,
}

/// Declared authentication schemes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthScheme {
    /// Scheme names (`bearer`, `basic`; may be empty).
    pub schemes: Vec<String>,
    /// OAuth2 configuration (free-form, unused).
    #[serde(default)]
    pub oauth2: Option<JsonObject>,
}

impl AuthScheme {
    /// Every scheme, lower-cased, must be `bearer` or `basic`.
    pub fn check_schemes(&self) -> Result<(), AsapError> {
        match self
            .schemes
            .iter()
            .find(|s| !SUPPORTED_AUTH_SCHEMES.contains(&s.to_ascii_lowercase().as_str()))
        {
            Some(bad) => Err(AsapError::unsupported_auth_scheme(bad)),
            None => Ok(()),
        }
    }

    /// Whether bearer tokens are accepted (case-insensitive).
    pub fn supports_bearer(&self) -> bool {
        self.schemes
            .iter()
            .any(|s| s.eq_ignore_ascii_case("bearer"))
    }
}

fn de_version<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let version = String::deserialize(d)?;
    check_pep440(&version).map_err(|reason| {
        de::value_error(format_args!(
            "Invalid semantic version '{version}': {reason}"
        ))
    })?;
    Ok(version)
}

fn de_auth<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AuthScheme>, D::Error> {
    let auth: Option<AuthScheme> = option_map_only(d)?;
    if let Some(a) = &auth {
        a.check_schemes()
            .map_err(|e| de::error(e.code.as_str(), e.message))?;
    }
    Ok(auth)
}
