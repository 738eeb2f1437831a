//! Durable state for ASAP agents.
//!
//! The storage contracts the server and handlers rely on, one trait per kind of state:
//!
//! | trait | holds | used by |
//! |---|---|---|
//! | [`TaskStore`] | tasks and their status history; every transition through the §8 state machine | handlers, crash-resume |
//! | [`SnapshotStore`] | versioned [`StateSnapshot`](asap_model::StateSnapshot)s (§13) | `state.query` / `state.restore`, checkpoints |
//! | [`NonceStore`] | seen nonces (§11.3), shared by replicas | the server's nonce layer |
//! | [`RateLimitStore`] | per-key request budgets (GCRA), shared by replicas | the server's rate-limit layer |
//! | [`IdempotencyStore`] | one record per (sender, idempotency key): in progress or the stored response | the server's idempotency layer |
//!
//! Every trait is object safe and returns boxed futures, so a server holds its stores as
//! `Arc<dyn …>` chosen at start-up from a URL ([`Stores::open`]). Each trait documents its
//! contract, atomicity included; the conformance suite checks every backend against the same
//! contract. [`timed`] wraps any of them to report each call's duration (for metrics).
//!
//! # Backends
//!
//! | URL | backend | feature | shared by processes | after `Ok` |
//! |---|---|---|---|---|
//! | `memory:` / `memory://` | [`memory`]: bounded, in-process | always | no | kept until the process ends; nothing survives a restart |
//! | `sqlite://PATH` / `sqlite:PATH` | `sqlite::SqliteStore`: one file, WAL | `sqlite` | on one host | survives a process crash; with the default `synchronous = NORMAL` a power loss may roll back the last commits, with `synchronous = FULL` it does not |
//! | `postgres://…` / `postgresql://…` | `postgres::PostgresStore`: one database, a connection pool | `postgres` | by every replica using the database | committed on the server: with the default `synchronous_commit = on` it survives a crash of the server or its host |
//!
//! ```
//! # futures_util::FutureExt::now_or_never(async {
//! let stores = asap_state::Stores::open("memory:").await.unwrap();
//! stores.ping.ping().await.unwrap();
//! # }).unwrap();
//! ```
//!
//! The memory stores keep their size flat under load: each has a capacity, drops expired
//! records first and then evicts the oldest ones (see each type for what eviction costs). The
//! SQLite store keeps every record until it is deleted or, for expiring records, purged
//! (`SqliteStore::purge_expired`); see the `sqlite` module for its durability in detail. The
//! PostgreSQL store likewise (`PostgresStore::purge_expired`, the `postgres` module).
//!
//! # Features
//!
//! - `sqlite`: the SQLite backend (sqlx 0.9, bundled SQLite). It needs Rust 1.94, sqlx's
//!   minimum; the crate without it builds with Rust 1.88 (docs/adr/0006-sqlx-version.md).
//! - `postgres`: the PostgreSQL backend (sqlx 0.9, no TLS), every store shared by the
//!   replicas using one database; Rust 1.94 like `sqlite`.
//! - `conformance`: `asap_state::conformance`, the suite that checks a backend against every
//!   contract, for the tests of backends outside this crate too.
#![deny(missing_docs)]

mod error;
mod gcra;
mod idempotency;
pub mod memory;
pub mod migrate;
mod nonce;
mod ping;
mod ratelimit;
mod schema;
mod snapshot;
mod stores;
mod task;
pub mod timed;

#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use error::{ErrorKind, StoreError};
pub use idempotency::{Begin, IdempotencyKey, IdempotencyStore, StoredResponse};
pub use nonce::NonceStore;
pub use ping::Ping;
pub use ratelimit::{RateDecision, RateLimitStore, RateQuota};
pub use schema::SchemaStatus;
pub use snapshot::{SnapshotRecord, SnapshotStore};
pub use stores::{Stores, accepted_schemes};
pub use task::{StatusChange, TaskStore, check_history};

/// Boxed, `Send` future returned by every store method.
pub type StoreFuture<'a, T> = futures_util::future::BoxFuture<'a, Result<T, StoreError>>;
