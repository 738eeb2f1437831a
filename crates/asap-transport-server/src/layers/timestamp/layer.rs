use std::time::Duration;

use asap_model::Timestamp;
use tower_layer::Layer;

use super::{TimestampWindow, Window};

/// Applies [`TimestampWindow`]: refuses envelopes older than `max_age` (default 300 s) or
/// more than `max_future` ahead (default 30 s).
///
/// ```
/// use std::time::Duration;
/// use asap_transport_server::layers::timestamp::TimestampWindowLayer;
///
/// let layer = TimestampWindowLayer::new().with_max_future(Duration::from_secs(5));
/// assert_eq!(layer.max_age(), Duration::from_secs(300));
/// assert_eq!(layer.max_future(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TimestampWindowLayer {
    window: Window,
    clock: fn() -> Timestamp,
}

impl TimestampWindowLayer {
    /// The reference window (300 s old, 30 s ahead), on the system clock.
    pub fn new() -> Self {
        Self::from_window(Window::DEFAULT)
    }

    /// A layer enforcing `window`, on the system clock.
    pub fn from_window(window: Window) -> Self {
        Self {
            window,
            clock: Timestamp::now,
        }
    }

    /// Sets the oldest accepted age.
    #[must_use]
    pub fn with_max_age(mut self, max_age: Duration) -> Self {
        self.window = Window::new(max_age, self.window.max_future());
        self
    }

    /// Sets the largest accepted offset into the future.
    #[must_use]
    pub fn with_max_future(mut self, max_future: Duration) -> Self {
        self.window = Window::new(self.window.max_age(), max_future);
        self
    }

    /// Reads "now" from `clock` instead of the system clock (for tests and simulations).
    #[must_use]
    pub fn with_clock(mut self, clock: fn() -> Timestamp) -> Self {
        self.clock = clock;
        self
    }

    /// Oldest accepted age.
    pub fn max_age(&self) -> Duration {
        self.window.max_age()
    }

    /// Largest accepted offset into the future.
    pub fn max_future(&self) -> Duration {
        self.window.max_future()
    }

    /// The window enforced.
    pub fn window(&self) -> Window {
        self.window
    }
}

impl Default for TimestampWindowLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for TimestampWindowLayer {
    type Service = TimestampWindow<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TimestampWindow::new(inner, self.window).with_clock(self.clock)
    }
}
