//! Concurrent sends of many envelopes (PROTOCOL §12.6).
//!
//! Not a JSON-RPC batch: each envelope is its own `asap.send` request through
//! [`AsapClient::send`] (same retries, breaker and compression), multiplexed over the pool.

use asap_model::Envelope;
use futures_util::stream::{self, StreamExt};

use crate::client::AsapClient;
use crate::error::ClientError;

/// What [`AsapClient::send_batch`] does when a send fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum BatchMode {
    /// Return the first error (the first to happen, not the first in input order); sends
    /// still in flight are dropped — cancelled — and queued ones never start. The reference
    /// client's default (`return_exceptions=false`).
    #[default]
    FailFast,
    /// Run every send and return each result in place (`return_exceptions=true`).
    CollectAll,
}

impl AsapClient {
    /// Sends every envelope, at most `batch_concurrency` (default: `max_connections_per_host`)
    /// at a time, and returns the results **in input order**.
    ///
    /// - [`BatchMode::FailFast`]: `Ok` holds only `Ok` entries; the first failure is returned
    ///   as `Err` and the remaining sends are cancelled.
    /// - [`BatchMode::CollectAll`]: `Ok` holds one result per envelope, errors in place.
    ///
    /// An empty batch is [`ClientError::EmptyBatch`] in both modes. [`send_all`](Self::send_all)
    /// is the fail-fast form with plain envelopes.
    ///
    /// Each envelope's send has its own `deadline` ([`ClientError::DeadlineExceeded`] in its
    /// place), started when that send starts, so envelopes queued behind
    /// `batch_concurrency` do not use theirs up while they wait. To bound the batch as a
    /// whole, wrap it in `tokio::time::timeout`.
    ///
    /// ```no_run
    /// use asap_transport_client::{AsapClient, BatchMode};
    /// # async fn run(envelopes: Vec<asap_model::Envelope>) -> Result<(), asap_transport_client::ClientError> {
    /// let client = AsapClient::builder("https://agent.example").build()?;
    /// for result in client.send_batch(envelopes, BatchMode::CollectAll).await? {
    ///     match result {
    ///         Ok(reply) => println!("ok: {}", reply.id.as_str()),
    ///         Err(error) => println!("failed: {error}"),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_batch(
        &self,
        envelopes: Vec<Envelope>,
        mode: BatchMode,
    ) -> Result<Vec<Result<Envelope, ClientError>>, ClientError> {
        if envelopes.is_empty() {
            return Err(ClientError::EmptyBatch);
        }
        let total = envelopes.len();
        let concurrency = self.inner.config.effective_batch_concurrency();
        let mut completed = stream::iter(envelopes.into_iter().enumerate())
            .map(|(index, envelope)| async move { (index, self.send(envelope).await) })
            .buffer_unordered(concurrency);
        let mut slots: Vec<Option<Result<Envelope, ClientError>>> =
            std::iter::repeat_with(|| None).take(total).collect();
        while let Some((index, result)) = completed.next().await {
            if mode == BatchMode::FailFast
                && let Err(error) = result
            {
                return Err(error);
            }
            slots[index] = Some(result);
        }
        // The stream yields every index exactly once, so no slot is left empty.
        Ok(slots.into_iter().flatten().collect())
    }

    /// Fail-fast batch returning the response envelopes in input order.
    pub async fn send_all(&self, envelopes: Vec<Envelope>) -> Result<Vec<Envelope>, ClientError> {
        self.send_batch(envelopes, BatchMode::FailFast)
            .await?
            .into_iter()
            .collect()
    }
}
