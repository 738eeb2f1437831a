//! ASAP agent client.
#![deny(missing_docs)]
