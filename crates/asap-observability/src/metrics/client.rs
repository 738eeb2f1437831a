//! The client families beyond §14.1, labelled by `peer` (the agent's `host:port`): what a
//! dashboard needs to draw who calls whom and how each connection to a peer fares.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::families::{Histograms, durations};
use crate::observe::{BreakerEvent, ConnectionEvent, PoolEvent, SendEvent};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerStatus {
    peer: String,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Peer {
    peer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerState {
    peer: String,
    state: String,
}

fn peer(peer: &str) -> Peer {
    Peer {
        peer: peer.to_owned(),
    }
}

/// The client families, registered.
pub(super) struct ClientFamilies {
    sends: Family<PeerStatus, Counter>,
    send_duration: Histograms<Peer>,
    retries: Family<Peer, Counter>,
    breaker_state: Family<Peer, Gauge>,
    breaker_transitions: Family<PeerState, Counter>,
    pool_in_use: Family<Peer, Gauge>,
    pool_wait: Histograms<Peer>,
    connections: Family<Peer, Gauge>,
}

impl ClientFamilies {
    pub(super) fn register(r: &mut Registry) -> Self {
        let f = Self {
            sends: Family::default(),
            send_duration: Family::new_with_constructor(durations),
            retries: Family::default(),
            breaker_state: Family::default(),
            breaker_transitions: Family::default(),
            pool_in_use: Family::default(),
            pool_wait: Family::new_with_constructor(durations),
            connections: Family::default(),
        };
        r.register(
            "asap_client_sends",
            "Client sends by peer and outcome (success or error)",
            f.sends.clone(),
        );
        r.register(
            "asap_client_send_duration_seconds",
            "Client send duration by peer, retries included",
            f.send_duration.clone(),
        );
        r.register(
            "asap_client_retries",
            "Client retries by peer",
            f.retries.clone(),
        );
        r.register(
            "asap_circuit_breaker_state",
            "Circuit breaker state by peer: 0 closed, 1 half-open, 2 open",
            f.breaker_state.clone(),
        );
        r.register(
            "asap_circuit_breaker_transitions",
            "Circuit breaker state changes by peer and state entered",
            f.breaker_transitions.clone(),
        );
        r.register(
            "asap_client_pool_in_use",
            "Connection slots in use by peer",
            f.pool_in_use.clone(),
        );
        r.register(
            "asap_client_pool_acquire_duration_seconds",
            "Wait for a connection slot by peer",
            f.pool_wait.clone(),
        );
        r.register(
            "asap_client_connections_open",
            "Connections open by peer, in use or idle",
            f.connections.clone(),
        );
        f
    }

    pub(super) fn send(&self, event: &SendEvent<'_>) {
        let status = if event.error.is_some() {
            "error"
        } else {
            "success"
        };
        self.sends
            .get_or_create(&PeerStatus {
                peer: event.peer.to_owned(),
                status,
            })
            .inc();
        self.send_duration
            .get_or_create(&peer(event.peer))
            .observe(event.duration.as_secs_f64());
    }

    pub(super) fn retry(&self, name: &str) {
        self.retries.get_or_create(&peer(name)).inc();
    }

    pub(super) fn breaker(&self, event: &BreakerEvent<'_>) {
        let value = match event.to {
            "closed" => 0,
            "half_open" => 1,
            _ => 2,
        };
        self.breaker_state
            .get_or_create(&peer(event.peer))
            .set(value);
        self.breaker_transitions
            .get_or_create(&PeerState {
                peer: event.peer.to_owned(),
                state: event.to.to_owned(),
            })
            .inc();
    }

    pub(super) fn pool(&self, event: &PoolEvent<'_>) {
        let label = peer(event.peer);
        self.pool_in_use
            .get_or_create(&label)
            .set(i64::try_from(event.in_use).unwrap_or(i64::MAX));
        if let Some(waited) = event.waited {
            self.pool_wait
                .get_or_create(&label)
                .observe(waited.as_secs_f64());
        }
    }

    pub(super) fn connection(&self, event: &ConnectionEvent<'_>) {
        self.connections
            .get_or_create(&peer(event.peer))
            .set(i64::try_from(event.open).unwrap_or(i64::MAX));
    }
}
