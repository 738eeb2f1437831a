use tower_layer::Layer;

use super::Decompression;

/// Applies [`Decompression`].
#[derive(Debug, Clone, Copy)]
pub struct DecompressionLayer {
    max: usize,
}

impl DecompressionLayer {
    /// Inflated bodies may be at most `max` bytes (the protocol default is 10 MiB).
    pub fn new(max: usize) -> Self {
        Self { max }
    }
}

impl<S> Layer<S> for DecompressionLayer {
    type Service = Decompression<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Decompression::new(inner, self.max)
    }
}
