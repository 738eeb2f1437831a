use asap_codec::compression::DEFAULT_COMPRESSION_THRESHOLD;
use tower_layer::Layer;

use super::ResponseCompression;

/// Applies [`ResponseCompression`].
#[derive(Debug, Clone, Copy)]
pub struct ResponseCompressionLayer {
    threshold: Option<usize>,
}

impl ResponseCompressionLayer {
    /// Compresses bodies of at least `threshold` bytes.
    pub fn new(threshold: usize) -> Self {
        Self {
            threshold: Some(threshold),
        }
    }

    /// Compresses nothing (the layer passes everything through).
    pub fn disabled() -> Self {
        Self { threshold: None }
    }
}

impl Default for ResponseCompressionLayer {
    /// Threshold 1 KiB.
    fn default() -> Self {
        Self::new(DEFAULT_COMPRESSION_THRESHOLD)
    }
}

impl<S> Layer<S> for ResponseCompressionLayer {
    type Service = ResponseCompression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResponseCompression::new(inner, self.threshold)
    }
}
