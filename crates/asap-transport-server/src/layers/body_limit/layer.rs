use tower_layer::Layer;

use super::BodyLimit;

/// Applies [`BodyLimit`].
///
/// ```
/// use asap_transport_server::layers::body_limit::BodyLimitLayer;
///
/// let layer = BodyLimitLayer::new(10 * 1024 * 1024);
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BodyLimitLayer {
    max: usize,
}

impl BodyLimitLayer {
    /// A limit of `max` bytes (the protocol default is 10 MiB).
    pub fn new(max: usize) -> Self {
        Self { max }
    }
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BodyLimit::new(inner, self.max)
    }
}
