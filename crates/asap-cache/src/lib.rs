//! Manifest cache.
#![deny(missing_docs)]
