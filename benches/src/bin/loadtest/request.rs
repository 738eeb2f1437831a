//! The benchmark request with a fresh idempotency key on every send.
//!
//! Real clients (the reference `ASAPClient` and `asap-transport-client`) put a new ULID in
//! `params.idempotency_key` on every `send`, so every request the generators send carries a
//! key no other request of the run carries: once a server deduplicates by that key, the
//! benchmark measures fresh calls, not replays answered from a cache.
//!
//! The key is 26 Crockford base32 characters, like a ULID (and a valid one):
//!
//! | characters | what |
//! |---|---|
//! | 0–9   | the run's start time in Unix milliseconds (a ULID timestamp) |
//! | 10–15 | 30 random bits drawn once per run |
//! | 16–19 | the lane: a connection of the built-in generators, a thread of `post.lua` |
//! | 20–25 | the lane's request counter (wrapping after 2³⁰ requests) |
//!
//! The request is built once per lane with [`KEY_PLACEHOLDER`] in the key's place; each
//! send overwrites the counter's 6 bytes in place (the length never changes, nor does
//! `Content-Length`), so a fresh key costs no allocation and no copy.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context as _, Result, ensure};

use crate::client::post_request;

/// What stands for the key in the body template (here and in `post.lua`).
pub(crate) const KEY_PLACEHOLDER: &str = "00000000000000000000000000";

/// Crockford's base32 alphabet, as ULIDs use it.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Where the lane starts in the key, and the counter.
const LANE_AT: usize = 16;
const COUNTER_AT: usize = 20;
const COUNTER_MASK: u32 = (1 << 30) - 1;

/// The next lane of this process (never reused within a run, wrapping after 2²⁰).
static NEXT_LANE: AtomicU32 = AtomicU32::new(0);

/// The first 16 characters of every key of this run: a ULID's timestamp and 30 bits of its
/// randomness.
fn run_prefix() -> &'static [u8; 16] {
    static PREFIX: OnceLock<[u8; 16]> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let ulid = ulid::Ulid::generate().to_string();
        let mut prefix = [0_u8; 16];
        prefix.copy_from_slice(&ulid.as_bytes()[..16]);
        prefix
    })
}

/// Writes `value`'s low `5 × out.len()` bits into `out` in base32, most significant first.
fn encode(mut value: u32, out: &mut [u8]) {
    for byte in out.iter_mut().rev() {
        *byte = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
}

/// The bytes of one `POST /asap` request to one server, with the key's place marked;
/// [`Template::lane`] makes the sender of one connection.
#[derive(Debug)]
pub(crate) struct Template {
    bytes: Vec<u8>,
    key_at: usize,
    fixed_key: bool,
}

impl Template {
    /// The request of `body` (which holds [`KEY_PLACEHOLDER`] once) to `addr`. With
    /// `fixed_key`, every request of every lane carries the same key (to measure what fresh
    /// keys cost the generator).
    pub(crate) fn new(addr: SocketAddr, body: &[u8], fixed_key: bool) -> Result<Self> {
        let bytes = post_request(addr, "/asap", body);
        let placeholder = KEY_PLACEHOLDER.as_bytes();
        let mut found = bytes
            .windows(placeholder.len())
            .enumerate()
            .filter(|(_, w)| *w == placeholder)
            .map(|(at, _)| at);
        let key_at = found
            .next()
            .context("the benchmark body has no idempotency key placeholder")?;
        ensure!(
            found.next().is_none(),
            "the benchmark body has more than one idempotency key placeholder"
        );
        let mut template = Self {
            bytes,
            key_at,
            fixed_key,
        };
        template.bytes[key_at..key_at + LANE_AT].copy_from_slice(run_prefix());
        Ok(template)
    }

    /// The sender of a new lane (one connection).
    pub(crate) fn lane(&self) -> Lane {
        let mut bytes = self.bytes.clone();
        let key = &mut bytes[self.key_at..self.key_at + KEY_PLACEHOLDER.len()];
        let lane = if self.fixed_key {
            0
        } else {
            NEXT_LANE.fetch_add(1, Ordering::Relaxed)
        };
        encode(lane, &mut key[LANE_AT..COUNTER_AT]);
        encode(0, &mut key[COUNTER_AT..]);
        Lane {
            bytes,
            counter_at: self.key_at + COUNTER_AT,
            next: 0,
            fixed_key: self.fixed_key,
        }
    }
}

/// The requests of one lane, each with the next key.
#[derive(Debug)]
pub(crate) struct Lane {
    bytes: Vec<u8>,
    counter_at: usize,
    next: u32,
    fixed_key: bool,
}

impl Lane {
    /// The next request to send.
    pub(crate) fn next_request(&mut self) -> &[u8] {
        if !self.fixed_key {
            encode(
                self.next,
                &mut self.bytes[self.counter_at..self.counter_at + 6],
            );
            self.next = (self.next + 1) & COUNTER_MASK;
        }
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(request: &[u8], at: usize) -> String {
        String::from_utf8(request[at..at + 26].to_vec()).unwrap()
    }

    #[test]
    fn every_request_gets_a_fresh_ulid() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let body = format!(r#"{{"params":{{"idempotency_key":"{KEY_PLACEHOLDER}"}}}}"#);
        let template = Template::new(addr, body.as_bytes(), false).unwrap();
        let at = template.key_at;
        let mut seen = std::collections::HashSet::new();
        let (mut a, mut b) = (template.lane(), template.lane());
        for _ in 0..1000 {
            for lane in [&mut a, &mut b] {
                let request = lane.next_request();
                assert_eq!(request.len(), template.bytes.len());
                let key = key(request, at);
                let ulid = ulid::Ulid::from_string(&key).expect("a valid ULID");
                assert_eq!(key, ulid.to_string());
                assert!(seen.insert(key));
            }
        }
        let first = key(b.next_request(), at);
        assert_eq!(&first.as_bytes()[..16], run_prefix());

        let fixed = Template::new(addr, body.as_bytes(), true).unwrap();
        let mut lane = fixed.lane();
        let once = lane.next_request().to_vec();
        assert_eq!(lane.next_request(), &once[..]);
        assert_eq!(fixed.lane().next_request(), &once[..]);
    }

    #[test]
    fn counters_wrap_within_their_width() {
        let mut out = [0_u8; 6];
        encode(0, &mut out);
        assert_eq!(&out, b"000000");
        encode(COUNTER_MASK, &mut out);
        assert_eq!(&out, b"ZZZZZZ");
        encode(32 * 32 + 31, &mut out);
        assert_eq!(&out, b"00010Z");
    }

    #[test]
    fn the_placeholder_must_be_there_once() {
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert!(Template::new(addr, b"{}", false).is_err());
        let twice = format!("{KEY_PLACEHOLDER}{KEY_PLACEHOLDER}");
        assert!(Template::new(addr, twice.as_bytes(), false).is_err());
    }
}
