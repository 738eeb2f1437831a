use std::time::Duration;

use super::{RACERS, concurrently, sleep_ms, unique};
use crate::NonceStore;

const LONG: Duration = Duration::from_secs(600);

async fn mark<S: NonceStore + ?Sized>(store: &S, nonce: &str, ttl: Duration) -> bool {
    store
        .check_and_mark(nonce, ttl)
        .await
        .unwrap_or_else(|e| panic!("NonceStore: check_and_mark: {e} ({:?})", e.kind()))
}

/// Checks a [`NonceStore`] against every clause of its contract.
pub async fn nonce_store<S: NonceStore + ?Sized>(store: &S) {
    let nonce = unique("n");
    assert!(
        mark(store, &nonce, LONG).await,
        "NonceStore: a new nonce is fresh"
    );
    for _ in 0..3 {
        assert!(
            !mark(store, &nonce, LONG).await,
            "NonceStore: a remembered nonce is a replay"
        );
    }
    assert!(
        mark(store, &unique("n"), LONG).await,
        "NonceStore: another nonce is fresh"
    );
    // Long and odd nonces are data, not syntax.
    let odd = format!("{}'; --\u{1F600}{}", unique("n"), "x".repeat(4096));
    assert!(
        mark(store, &odd, LONG).await,
        "NonceStore: any text is a nonce"
    );
    assert!(
        !mark(store, &odd, LONG).await,
        "NonceStore: any text is remembered"
    );

    // Expiry: fresh again once the TTL has run out (and only that nonce).
    let short = unique("n");
    assert!(
        mark(store, &short, Duration::from_millis(20)).await,
        "NonceStore: fresh"
    );
    sleep_ms(120).await;
    assert!(
        mark(store, &short, LONG).await,
        "NonceStore: an expired nonce is fresh again"
    );
    assert!(
        !mark(store, &short, LONG).await,
        "NonceStore: a re-marked nonce is remembered for its new TTL"
    );
    assert!(
        !mark(store, &nonce, LONG).await,
        "NonceStore: a live nonce does not expire early"
    );

    // Atomicity: of racing calls with one nonce exactly one is fresh.
    let contested = unique("n");
    let fresh = concurrently(RACERS, |_| mark(store, &contested, LONG)).await;
    assert_eq!(
        fresh.iter().filter(|f| **f).count(),
        1,
        "NonceStore: of {RACERS} racing calls with one nonce exactly one is fresh"
    );
    // …and racing calls with distinct nonces are all fresh.
    let distinct: Vec<String> = (0..RACERS).map(|_| unique("n")).collect();
    let fresh = concurrently(RACERS, |i| mark(store, &distinct[i], LONG)).await;
    assert!(
        fresh.iter().all(|f| *f),
        "NonceStore: racing distinct nonces are all fresh"
    );
    // Racing replays of an expired nonce: again exactly one is fresh.
    let expiring = unique("n");
    assert!(
        mark(store, &expiring, Duration::from_millis(20)).await,
        "NonceStore: fresh"
    );
    sleep_ms(120).await;
    let fresh = concurrently(RACERS, |_| mark(store, &expiring, LONG)).await;
    assert_eq!(
        fresh.iter().filter(|f| **f).count(),
        1,
        "NonceStore: of racing calls with an expired nonce exactly one is fresh"
    );
}
