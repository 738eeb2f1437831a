//! Token validators.

use std::collections::HashMap;

use asap_model::AgentUrn;
use futures_util::future::BoxFuture;

/// Maps a bearer token to the agent it authenticates, or `None` to reject it.
pub trait TokenValidator: Send + Sync + 'static {
    /// Validates `token`.
    fn validate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<AgentUrn>>;
}

/// A fixed token → agent table.
///
/// ```
/// use asap_transport_server::layers::auth::StaticTokens;
///
/// let tokens = StaticTokens::new().with("s3cret", "urn:asap:agent:client".parse().unwrap());
/// # let _ = tokens;
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticTokens {
    tokens: HashMap<String, AgentUrn>,
}

impl StaticTokens {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a token.
    #[must_use]
    pub fn with(mut self, token: impl Into<String>, agent: AgentUrn) -> Self {
        self.tokens.insert(token.into(), agent);
        self
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

impl TokenValidator for StaticTokens {
    fn validate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<AgentUrn>> {
        let found = self.tokens.get(token).cloned();
        Box::pin(async move { found })
    }
}

/// A synchronous closure as a [`TokenValidator`]; see [`validator_fn`].
#[derive(Clone)]
pub struct ValidatorFn<F>(F);

impl<F> std::fmt::Debug for ValidatorFn<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValidatorFn")
    }
}

/// Makes a validator from `Fn(&str) -> Option<AgentUrn>`.
pub fn validator_fn<F>(f: F) -> ValidatorFn<F>
where
    F: Fn(&str) -> Option<AgentUrn> + Send + Sync + 'static,
{
    ValidatorFn(f)
}

impl<F> TokenValidator for ValidatorFn<F>
where
    F: Fn(&str) -> Option<AgentUrn> + Send + Sync + 'static,
{
    fn validate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<AgentUrn>> {
        let found = (self.0)(token);
        Box::pin(async move { found })
    }
}
