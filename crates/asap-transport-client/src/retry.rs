//! The send algorithm (PROTOCOL §12.2): attempts, what each answer means for the next one,
//! the waits between them — all within the send's deadline — and the fallbacks: to the
//! standard coding for a server that refuses `asap-zstd-v1`, to uncompressed bodies for
//! servers that cannot read compressed ones.

use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use asap_codec::compression::{Compression, Encoding};
use asap_codec::rpc::{Id, encode_request};
use asap_model::Envelope;
use asap_model::error::rpc;
use bytes::Bytes;
use http::StatusCode;
use http::header::RETRY_AFTER;
use serde_json::Value;
use tracing::Instrument;
use ulid::Ulid;

use crate::LOG_TARGET;
use crate::backoff::parse_retry_after;
use crate::client::Inner;
use crate::deadline::SendDeadline;
use crate::error::ClientError;
use crate::reply::interpret;
use crate::transport::{AttemptError, HttpReply};

/// A request body ready to send: the JSON, possibly compressed.
#[derive(Clone)]
struct Body {
    bytes: Bytes,
    encoding: Option<Encoding>,
}

/// What an attempt's outcome means for the send: `Break` with the send's result, or
/// `Continue` with a retry.
type Verdict = ControlFlow<Result<Envelope, ClientError>, Retry>;

/// Try again after `delay`, unless the attempts or the deadline are used up; `error` is the
/// send's result if it is not tried again.
struct Retry {
    delay: Duration,
    error: ClientError,
}

impl Inner {
    /// Sends the envelope with up to `max_retries` attempts (see [`AsapClient::send`]).
    ///
    /// [`AsapClient::send`]: crate::AsapClient::send
    ///
    /// The send runs in the span `asap.send` (target [`LOG_TARGET`], with the envelope's
    /// `asap.payload_type`, `asap.envelope.id` and `asap.recipient`), each attempt in a child
    /// span `asap.send.attempt` of kind client. With OpenTelemetry recording them, the
    /// envelope carries the send span's trace (see `crate::otel::mark`) and each attempt a
    /// `traceparent` header naming its span.
    pub(crate) async fn send_with_retries(
        &self,
        envelope: &Envelope,
    ) -> Result<Envelope, ClientError> {
        let span = tracing::info_span!(
            target: LOG_TARGET,
            "asap.send",
            asap.payload_type = %envelope.payload_type,
            asap.envelope.id = %envelope.id,
            asap.recipient = %envelope.recipient,
        );
        let marked = span.in_scope(|| crate::otel::mark(envelope));
        self.send_attempts(marked.as_ref().unwrap_or(envelope))
            .instrument(span)
            .await
    }

    async fn send_attempts(&self, envelope: &Envelope) -> Result<Envelope, ClientError> {
        let deadline = SendDeadline::start(self.config.deadline);
        let max_attempts = self.config.max_retries;
        if max_attempts == 0 {
            return Err(max_retries_zero());
        }
        let n = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let id = Id::Str(format!("req-{n}"));
        let key = Ulid::generate().to_string();
        let json = Bytes::from(encode_request(&id, envelope, Some(&key)));
        let Some(mut body) = deadline.run(self.prepare(&json)).await else {
            return Err(deadline.exceeded(0, None, None));
        };
        let mut fell_back = false;
        // Attempts finished so far; the current one is `attempt + 1`.
        let mut attempt: u32 = 0;
        // The last `Retry-After` the server sent, and the last attempt's error.
        let mut hint: Option<Duration> = None;
        let mut last_error: Option<ClientError> = None;
        loop {
            let last = attempt + 1 >= max_attempts;
            let mut request =
                self.transport
                    .post(self.base.rpc(), body.bytes.clone(), body.encoding, &key);
            let attempt_span = tracing::info_span!(
                target: LOG_TARGET,
                "asap.send.attempt",
                attempt = attempt + 1,
                otel.kind = "client",
                http.response.status_code = tracing::field::Empty,
            );
            crate::otel::headers(&attempt_span, request.headers_mut());
            tracing::debug!(
                target: LOG_TARGET,
                request_id = %id,
                attempt = attempt + 1,
                encoding = body.encoding.map(Encoding::as_str),
                "sending"
            );
            let execution = self
                .transport
                .execute(request, self.config.timeout)
                .instrument(attempt_span.clone());
            let Some(outcome) = deadline.run(execution).await else {
                return Err(deadline.exceeded(attempt + 1, hint, last_error));
            };
            if let Ok(reply) = &outcome {
                self.peer_coding.learn(&reply.headers);
                attempt_span.record("http.response.status_code", reply.status.as_u16());
            }
            drop(attempt_span);
            let verdict = match outcome {
                Ok(reply)
                    if body.encoding == Some(Encoding::AsapZstd) && rejects_compression(&reply) =>
                {
                    tracing::warn!(
                        target: LOG_TARGET,
                        base_url = %self.base.masked(),
                        status = reply.status.as_u16(),
                        "server refused an asap-zstd-v1 request; resending with the standard coding"
                    );
                    self.peer_coding.forget();
                    body = self.compress(&json, self.compression).await;
                    continue;
                }
                Ok(reply)
                    if body.encoding.is_some() && !fell_back && rejects_compression(&reply) =>
                {
                    tracing::warn!(
                        target: LOG_TARGET,
                        base_url = %self.base.masked(),
                        status = reply.status.as_u16(),
                        "server cannot read compressed requests; resending uncompressed and no longer compressing"
                    );
                    self.compression_off.store(true, Ordering::Relaxed);
                    body = Body {
                        bytes: json.clone(),
                        encoding: None,
                    };
                    fell_back = true;
                    continue;
                }
                Ok(reply) => self.judge_reply(&reply, attempt, last, &mut hint),
                Err(error @ (AttemptError::Connect(..) | AttemptError::Timeout(_))) => {
                    ControlFlow::Continue(Retry {
                        delay: self.backoff.delay(attempt),
                        error: error.into_client_error(),
                    })
                }
                Err(error) => ControlFlow::Break(Err(error.into_client_error())),
            };
            let Retry { delay, error } = match verdict {
                ControlFlow::Break(result) => return result,
                ControlFlow::Continue(retry) if last => return Err(retry.error),
                ControlFlow::Continue(retry) => retry,
            };
            if !deadline.allows_wait(delay) {
                tracing::warn!(
                    target: LOG_TARGET,
                    request_id = %id,
                    attempt = attempt + 1,
                    %error,
                    delay_ms = delay.as_millis() as u64,
                    "attempt failed; the wait before the next one would pass the deadline"
                );
                return Err(deadline.exceeded(attempt + 1, hint, Some(error)));
            }
            tracing::warn!(
                target: LOG_TARGET,
                request_id = %id,
                attempt = attempt + 1,
                %error,
                delay_ms = delay.as_millis() as u64,
                "attempt failed, retrying"
            );
            self.reporter.retry();
            tokio::time::sleep(delay).await;
            last_error = Some(error);
            attempt += 1;
        }
    }

    /// What an HTTP answer means: 5xx and 429 are retried — after the `Retry-After` of a
    /// 429 or 503 when there is one, else the backoff — unless the hint is longer than
    /// `max_retry_after`; other 4xx fail; anything else is a JSON-RPC reply to read.
    fn judge_reply(
        &self,
        reply: &HttpReply,
        attempt: u32,
        last: bool,
        hint: &mut Option<Duration>,
    ) -> Verdict {
        let status = reply.status;
        let code = status.as_u16();
        if status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS {
            return ControlFlow::Break(Err(ClientError::http_status(code, &reply.body)));
        }
        if !status.is_server_error() && status != StatusCode::TOO_MANY_REQUESTS {
            return ControlFlow::Break(interpret(&reply.body));
        }
        let error = ClientError::http_status(code, &reply.body);
        let honours_hint = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        );
        let Some(retry_after) = retry_after(reply).filter(|_| honours_hint) else {
            return ControlFlow::Continue(Retry {
                delay: self.backoff.delay(attempt),
                error,
            });
        };
        *hint = Some(retry_after);
        let cap = self.config.effective_max_retry_after();
        if retry_after > cap && !last {
            tracing::warn!(
                target: LOG_TARGET,
                base_url = %self.base.masked(),
                status = code,
                retry_after_ms = retry_after.as_millis() as u64,
                max_retry_after_ms = cap.as_millis() as u64,
                "the server asks for a longer wait than max_retry_after; not retrying"
            );
            return ControlFlow::Break(Err(error.with_retry_after(retry_after, Some(cap))));
        }
        ControlFlow::Continue(Retry {
            delay: retry_after,
            error: error.with_retry_after(retry_after, None),
        })
    }

    /// Compresses the body once, unless compression is off or not worth it: with
    /// `asap-zstd-v1` when the server advertised it, else with the standard policy.
    async fn prepare(&self, json: &Bytes) -> Body {
        self.compress(json, self.peer_coding.policy(self.compression))
            .await
    }

    /// `json` compressed with `policy`, or as it is when compression is off, the body is
    /// below the threshold or would not shrink.
    async fn compress(&self, json: &Bytes, policy: Compression) -> Body {
        let identity = Body {
            bytes: json.clone(),
            encoding: None,
        };
        if self.compression_off.load(Ordering::Relaxed) || !policy.should_compress(json.len()) {
            return identity;
        }
        // The encoder's state is kilobytes (≈ 11 KiB): inline, it would make every send's
        // future that large, and that future is moved several times per send. Boxed, only
        // bodies that get compressed pay for it, with one allocation.
        match Box::pin(policy.compress_body(json)).await {
            Ok(Some((encoding, compressed))) => Body {
                bytes: Bytes::from(compressed),
                encoding: Some(encoding),
            },
            Ok(None) => identity,
            Err(error) => {
                tracing::debug!(target: LOG_TARGET, %error, "compression failed; sending uncompressed");
                identity
            }
        }
    }
}

/// The error of a send with `max_retries` 0.
pub(crate) fn max_retries_zero() -> ClientError {
    ClientError::connection("Max retries (0) exceeded")
}

/// Whether the answer to a compressed request says the server could not read it: HTTP 415,
/// or HTTP 200 with a JSON-RPC `-32700` parse error (what reference servers 0.1 and 0.5
/// answer to a gzip or brotli body, PROTOCOL §18).
fn rejects_compression(reply: &HttpReply) -> bool {
    match reply.status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => true,
        StatusCode::OK => serde_json::from_slice::<Value>(&reply.body).is_ok_and(|v| {
            v.get("error")
                .and_then(|e| e.get("code"))
                .and_then(Value::as_i64)
                == Some(i64::from(rpc::PARSE_ERROR))
        }),
        _ => false,
    }
}

/// The `Retry-After` of a reply, when present, parsable and in the future.
fn retry_after(reply: &HttpReply) -> Option<Duration> {
    let value = reply.headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

#[cfg(test)]
mod tests {
    use std::mem::size_of_val;

    use asap_model::payload::TaskRequest;

    use super::*;
    use crate::AsapClient;

    /// A send's future is moved by value several times on its way to the executor (into each
    /// wrapper, then into the task); every move copies all of it. Encoder state or a wrapper
    /// that keeps its argument beside the future it builds would make it tens of KiB again.
    #[test]
    fn a_send_future_stays_small() {
        let client = AsapClient::builder("http://127.0.0.1:9").build().unwrap();
        let envelope = Envelope::new(
            "urn:asap:agent:a".parse().unwrap(),
            "urn:asap:agent:b".parse().unwrap(),
            TaskRequest {
                conversation_id: "c".into(),
                parent_task_id: None,
                skill_id: "s".into(),
                input: serde_json::Map::new(),
                config: None,
            },
        );
        let send = client.send(envelope);
        assert!(
            size_of_val(&send) <= 6 * 1024,
            "{} bytes",
            size_of_val(&send)
        );
    }
}
