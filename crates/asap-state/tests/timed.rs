//! `Stores::timed`: every call reaches the wrapped store (its own implementations of the
//! provided methods included) and is reported once, with its store, operation and outcome;
//! the wrapped stores still pass the conformance suite (feature `conformance`).

use std::sync::{Arc, Mutex};

use asap_model::{Task, TaskStatus};
use asap_state::timed::{StoreCall, StoreObserver};
use asap_state::{ErrorKind, Stores};

#[derive(Default)]
struct Calls(Mutex<Vec<(&'static str, &'static str, bool)>>);

impl StoreObserver for Calls {
    fn on_store_call(&self, call: &StoreCall) {
        self.0
            .lock()
            .unwrap()
            .push((call.store, call.operation, call.ok));
    }
}

#[tokio::test]
async fn each_call_is_forwarded_and_reported_once() {
    let calls = Arc::new(Calls::default());
    let stores = Stores::memory().timed(calls.clone());
    let task = Task::new("conv_timed".into());
    stores.tasks.create(&task).await.expect("create");
    stores
        .tasks
        .transition(&task.id, TaskStatus::Working, None)
        .await
        .expect("transition");
    // An illegal transition fails, and is reported as a failure.
    let refused = stores
        .tasks
        .transition(&task.id, TaskStatus::Submitted, None)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::InvalidTransition);
    // A provided method answers with the backend's implementation, not the default
    // `Unsupported`.
    let ids = stores.tasks.list_ids(None, 10).await.expect("list_ids");
    assert_eq!(ids, std::slice::from_ref(&task.id));
    assert!(
        stores
            .nonces
            .check_and_mark("n-1", std::time::Duration::from_secs(60))
            .await
            .expect("nonce")
    );
    assert_eq!(
        *calls.0.lock().unwrap(),
        [
            ("tasks", "create", true),
            ("tasks", "transition", true),
            ("tasks", "transition", false),
            ("tasks", "list_ids", true),
            ("nonces", "check_and_mark", true),
        ]
    );
}

#[cfg(feature = "conformance")]
#[tokio::test]
async fn timed_stores_pass_the_conformance_suite() {
    let calls = Arc::new(Calls::default());
    let stores = Stores::memory().timed(calls.clone());
    asap_state::conformance::all(&stores).await;
    assert!(!calls.0.lock().unwrap().is_empty());
}
