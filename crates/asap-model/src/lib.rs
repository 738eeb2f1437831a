//! Types of the ASAP protocol.
#![deny(missing_docs)]
