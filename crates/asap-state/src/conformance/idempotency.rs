use std::time::Duration;

use super::{RACERS, concurrently, sleep_ms, unique};
use crate::{Begin, IdempotencyKey, IdempotencyStore, StoreError, StoredResponse};

const LEASE: Duration = Duration::from_secs(60);
const TTL: Duration = Duration::from_secs(600);
const SHORT: Duration = Duration::from_millis(20);
/// Comfortably longer than [`SHORT`].
const WAIT_MS: u64 = 150;

fn key() -> IdempotencyKey {
    IdempotencyKey {
        sender: "urn:asap:agent:conformance".into(),
        key: unique("idem"),
    }
}

fn response(fingerprint: &str) -> StoredResponse {
    StoredResponse {
        fingerprint: fingerprint.into(),
        body: format!("{{\"result\":\"{fingerprint}\"}}\0\u{ff}").into_bytes(),
    }
}

fn ok<T>(result: Result<T, StoreError>, what: &str) -> T {
    result.unwrap_or_else(|e| panic!("IdempotencyStore: {what}: {e} ({:?})", e.kind()))
}

async fn begin<S: IdempotencyStore + ?Sized>(
    store: &S,
    key: &IdempotencyKey,
    fingerprint: &str,
    lease: Duration,
    ttl: Duration,
) -> Begin {
    ok(store.begin(key, fingerprint, lease, ttl).await, "begin")
}

/// Checks an [`IdempotencyStore`] against every clause of its contract.
pub async fn idempotency_store<S: IdempotencyStore + ?Sized>(store: &S) {
    lifecycle(store).await;
    release(store).await;
    leases_and_expiry(store).await;
    purge(store).await;
    racing_begins(store).await;
    many_keys_at_once(store).await;
}

async fn lifecycle<S: IdempotencyStore + ?Sized>(store: &S) {
    let k = key();
    assert_eq!(
        begin(store, &k, "fp-a", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: a new key is Started"
    );
    assert_eq!(
        begin(store, &k, "fp-a", LEASE, TTL).await,
        Begin::InProgress,
        "IdempotencyStore: same fingerprint, live lease: InProgress"
    );
    assert_eq!(
        begin(store, &k, "fp-b", LEASE, TTL).await,
        Begin::Mismatch,
        "IdempotencyStore: in progress for another fingerprint: Mismatch"
    );
    // Keys are per sender.
    let other_sender = IdempotencyKey {
        sender: "urn:asap:agent:someone-else".into(),
        key: k.key.clone(),
    };
    assert_eq!(
        begin(store, &other_sender, "fp-b", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: keys are scoped per sender"
    );
    ok(store.release(&other_sender).await, "release");

    let stored = response("fp-a");
    ok(store.complete(&k, &stored, TTL).await, "complete");
    assert_eq!(
        begin(store, &k, "fp-a", LEASE, TTL).await,
        Begin::Completed(stored.clone()),
        "IdempotencyStore: completed, same fingerprint: Completed with the response"
    );
    assert_eq!(
        begin(store, &k, "fp-b", LEASE, TTL).await,
        Begin::Mismatch,
        "IdempotencyStore: completed for another fingerprint: Mismatch"
    );
    ok(store.release(&k).await, "release");
    assert_eq!(
        begin(store, &k, "fp-a", LEASE, TTL).await,
        Begin::Completed(stored),
        "IdempotencyStore: release leaves a completed record alone"
    );
}

async fn release<S: IdempotencyStore + ?Sized>(store: &S) {
    let k = key();
    ok(store.release(&k).await, "release of an unknown key");
    assert_eq!(
        begin(store, &k, "fp-a", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    ok(store.release(&k).await, "release");
    assert_eq!(
        begin(store, &k, "fp-b", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: a released key can be started again, by any request"
    );
    ok(store.release(&k).await, "release");
}

async fn leases_and_expiry<S: IdempotencyStore + ?Sized>(store: &S) {
    // A run-out lease is taken over, by the same request…
    let same = key();
    assert_eq!(
        begin(store, &same, "fp-a", SHORT, TTL).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    // …or another one.
    let other = key();
    assert_eq!(
        begin(store, &other, "fp-a", SHORT, TTL).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    // Expired records are never answered: in progress…
    let expired_claim = key();
    assert_eq!(
        begin(store, &expired_claim, "fp-a", LEASE, SHORT).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    // …or completed.
    let expired_done = key();
    assert_eq!(
        begin(store, &expired_done, "fp-a", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    ok(
        store
            .complete(&expired_done, &response("fp-a"), SHORT)
            .await,
        "complete",
    );
    sleep_ms(WAIT_MS).await;

    assert_eq!(
        begin(store, &same, "fp-a", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: a run-out lease is taken over (same fingerprint)"
    );
    assert_eq!(
        begin(store, &same, "fp-a", LEASE, TTL).await,
        Begin::InProgress,
        "IdempotencyStore: the takeover holds a new lease"
    );
    assert_eq!(
        begin(store, &other, "fp-b", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: a run-out lease is taken over (another fingerprint)"
    );
    assert_eq!(
        begin(store, &other, "fp-a", LEASE, TTL).await,
        Begin::Mismatch,
        "IdempotencyStore: the takeover holds the key for its fingerprint"
    );
    assert_eq!(
        begin(store, &expired_claim, "fp-b", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: an expired in-progress record is never answered"
    );
    assert_eq!(
        begin(store, &expired_done, "fp-b", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: an expired completed record is never answered"
    );
    for k in [&same, &other, &expired_claim, &expired_done] {
        ok(store.release(k).await, "release");
    }
}

async fn purge<S: IdempotencyStore + ?Sized>(store: &S) {
    let keys: Vec<IdempotencyKey> = (0..3).map(|_| key()).collect();
    for k in &keys {
        assert_eq!(
            begin(store, k, "fp-a", LEASE, TTL).await,
            Begin::Started,
            "IdempotencyStore: Started"
        );
        ok(
            store.complete(k, &response("fp-a"), SHORT).await,
            "complete",
        );
    }
    let live = key();
    assert_eq!(
        begin(store, &live, "fp-a", LEASE, TTL).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    sleep_ms(WAIT_MS).await;
    assert_eq!(
        ok(store.purge_expired(0).await, "purge_expired"),
        0,
        "IdempotencyStore: purge_expired(0) removes nothing"
    );
    assert_eq!(
        ok(store.purge_expired(1).await, "purge_expired"),
        1,
        "IdempotencyStore: purge_expired removes up to `limit` (three expired records exist)"
    );
    ok(store.purge_expired(usize::MAX).await, "purge_expired");
    assert_eq!(
        begin(store, &live, "fp-a", LEASE, TTL).await,
        Begin::InProgress,
        "IdempotencyStore: purge_expired leaves live records"
    );
    for k in &keys {
        assert_eq!(
            begin(store, k, "fp-a", LEASE, TTL).await,
            Begin::Started,
            "IdempotencyStore: a purged key starts afresh"
        );
        ok(store.release(k).await, "release");
    }
    ok(store.release(&live).await, "release");
}

async fn racing_begins<S: IdempotencyStore + ?Sized>(store: &S) {
    let k = key();
    let answers = concurrently(RACERS, |_| begin(store, &k, "fp-a", LEASE, TTL)).await;
    let started = answers.iter().filter(|a| **a == Begin::Started).count();
    assert_eq!(
        started, 1,
        "IdempotencyStore: of {RACERS} racing begins exactly one is Started"
    );
    assert!(
        answers
            .iter()
            .all(|a| matches!(a, Begin::Started | Begin::InProgress)),
        "IdempotencyStore: the other racers see InProgress"
    );
    ok(store.release(&k).await, "release");

    // Mixed fingerprints: one winner; the others see InProgress or Mismatch by fingerprint.
    let k = key();
    let fingerprints = ["fp-a", "fp-b"];
    let answers = concurrently(RACERS, |i| {
        begin(store, &k, fingerprints[i % 2], LEASE, TTL)
    })
    .await;
    let winners: Vec<usize> = (0..RACERS)
        .filter(|i| answers[*i] == Begin::Started)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "IdempotencyStore: of racing begins with two fingerprints exactly one is Started"
    );
    let winner = winners[0] % 2;
    for (i, answer) in answers.iter().enumerate() {
        if i == winners[0] {
            continue;
        }
        let expected = if i % 2 == winner {
            Begin::InProgress
        } else {
            Begin::Mismatch
        };
        assert_eq!(
            *answer, expected,
            "IdempotencyStore: a losing racer sees the winner's claim"
        );
    }
    // Racing takeovers of a run-out lease: again exactly one.
    let k = key();
    assert_eq!(
        begin(store, &k, "fp-a", SHORT, TTL).await,
        Begin::Started,
        "IdempotencyStore: Started"
    );
    sleep_ms(WAIT_MS).await;
    let answers = concurrently(RACERS, |_| begin(store, &k, "fp-a", LEASE, TTL)).await;
    assert_eq!(
        answers.iter().filter(|a| **a == Begin::Started).count(),
        1,
        "IdempotencyStore: of racing takeovers of a run-out lease exactly one is Started"
    );
    ok(store.release(&k).await, "release");
}

/// Many different keys at once (a store may apply concurrent calls together): fresh keys,
/// completed ones, one reused with another fingerprint and one expired, all answered as if
/// each call were alone.
async fn many_keys_at_once<S: IdempotencyStore + ?Sized>(store: &S) {
    const KEYS: usize = 48;
    let keys: Vec<IdempotencyKey> = (0..KEYS).map(|_| key()).collect();
    let fp = |i: usize| format!("fp-{i}");
    let keys = &keys;
    let answers = concurrently(KEYS, |i| async move {
        begin(store, &keys[i], &fp(i), LEASE, TTL).await
    })
    .await;
    assert!(
        answers.iter().all(|a| *a == Begin::Started),
        "IdempotencyStore: fresh keys begun at once are each Started: {answers:?}"
    );
    // Bodies of every byte value and length, the empty one included; the last key
    // expires almost at once.
    let body = |i: usize| -> Vec<u8> { (0..i * 7).map(|b| (b * 31 + i) as u8).collect() };
    let results = concurrently(KEYS, |i| {
        let response = StoredResponse {
            fingerprint: fp(i),
            body: body(i),
        };
        let ttl = if i == KEYS - 1 { SHORT } else { TTL };
        async move { store.complete(&keys[i], &response, ttl).await }
    })
    .await;
    for result in results {
        ok(result, "complete");
    }
    sleep_ms(WAIT_MS).await;
    // Again at once, with fresh keys among them: replays, one mismatch, fresh claims.
    let fresh: Vec<IdempotencyKey> = (0..KEYS / 2).map(|_| key()).collect();
    let fresh = &fresh;
    let answers = concurrently(KEYS + fresh.len(), |i| {
        let (k, fingerprint) = match i {
            i if i < KEYS && i == 1 => (&keys[i], "another".to_owned()),
            i if i < KEYS => (&keys[i], fp(i)),
            i => (&fresh[i - KEYS], "fresh".to_owned()),
        };
        async move { begin(store, k, &fingerprint, LEASE, TTL).await }
    })
    .await;
    for (i, answer) in answers.iter().enumerate() {
        let expected = match i {
            1 => Begin::Mismatch,
            i if i == KEYS - 1 => Begin::Started,
            i if i < KEYS => Begin::Completed(StoredResponse {
                fingerprint: fp(i),
                body: body(i),
            }),
            _ => Begin::Started,
        };
        assert_eq!(
            *answer, expected,
            "IdempotencyStore: call {i} of many at once (completed, mismatched, expired, fresh)"
        );
    }
}
