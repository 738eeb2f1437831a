//! Placeholder; implemented next.
