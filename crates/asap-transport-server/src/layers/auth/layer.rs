use std::sync::Arc;

use asap_model::AuthScheme;
use tower_layer::Layer;

use super::{Auth, TokenValidator};

/// Applies [`Auth`].
#[derive(Clone)]
pub struct AuthLayer {
    validator: Arc<dyn TokenValidator>,
    bearer_declared: bool,
}

impl std::fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthLayer")
            .field("bearer_declared", &self.bearer_declared)
            .finish_non_exhaustive()
    }
}

impl AuthLayer {
    /// Authenticates with `validator` under the manifest's declared `schemes`.
    pub fn new(validator: impl TokenValidator, schemes: &AuthScheme) -> Self {
        Self::from_arc(Arc::new(validator), schemes)
    }

    /// Same as [`AuthLayer::new`] with a shared validator.
    pub fn from_arc(validator: Arc<dyn TokenValidator>, schemes: &AuthScheme) -> Self {
        Self {
            validator,
            bearer_declared: schemes.supports_bearer(),
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth::new(inner, Arc::clone(&self.validator), self.bearer_declared)
    }
}
