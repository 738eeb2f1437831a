//! What a client reports: sends, retries, its circuit breaker, its connection slots and
//! the connections it holds open.
//!
//! `peer` is the authority (`host:port`) of the agent a client talks to: one client per
//! agent, so a bounded set of label values.

use std::time::Duration;

/// One finished send (all its attempts).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SendEvent<'a> {
    /// The agent sent to.
    pub peer: &'a str,
    /// `None` for a response envelope; otherwise the error's kind (`connection`,
    /// `timeout`, `remote`, `circuit_open`…): the `reason` label of
    /// `asap_transport_send_errors_total`.
    pub error: Option<&'a str>,
    /// From the call to its result, waits between attempts included.
    pub duration: Duration,
}

impl<'a> SendEvent<'a> {
    /// A send to `peer` that ended with `error` (or a response) after `duration`.
    pub fn new(peer: &'a str, error: Option<&'a str>, duration: Duration) -> Self {
        Self {
            peer,
            error,
            duration,
        }
    }
}

/// A circuit breaker changed state.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct BreakerEvent<'a> {
    /// The agent the breaker guards.
    pub peer: &'a str,
    /// `closed`, `open` or `half_open`.
    pub to: &'a str,
}

impl<'a> BreakerEvent<'a> {
    /// The breaker of `peer` moved to `to`.
    pub fn new(peer: &'a str, to: &'a str) -> Self {
        Self { peer, to }
    }
}

/// A connection slot to a peer was taken or given back.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PoolEvent<'a> {
    /// The agent.
    pub peer: &'a str,
    /// Slots in use now.
    pub in_use: usize,
    /// How long taking the slot waited; `None` when one was given back.
    pub waited: Option<Duration>,
}

impl<'a> PoolEvent<'a> {
    /// `in_use` slots of `peer` are taken now; `waited` is the wait of a slot just taken.
    pub fn new(peer: &'a str, in_use: usize, waited: Option<Duration>) -> Self {
        Self {
            peer,
            in_use,
            waited,
        }
    }
}

/// The connections a client holds open to a peer changed: one was opened, or one closed
/// (the peer or the idle timeout closed it, or it failed).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ConnectionEvent<'a> {
    /// The agent.
    pub peer: &'a str,
    /// Connections open to it now, in use or idle.
    pub open: usize,
}

impl<'a> ConnectionEvent<'a> {
    /// `open` connections to `peer` are open now.
    pub fn new(peer: &'a str, open: usize) -> Self {
        Self { peer, open }
    }
}
