use std::sync::LazyLock;
use std::time::Duration;

use super::{RedisStore, redis_error};
use crate::{
    Begin, ErrorKind, IdempotencyKey, IdempotencyStore, StoreError, StoreFuture, StoredResponse,
};

/// `begin` as one script. A record is a hash: `f` fingerprint, `e` expiry and `l` lease end
/// (server clock, µs; `l` present while in progress), `b` the stored response (once
/// completed). KEYS[2] is a sorted set of record keys by expiry, for `purge_expired`; the
/// record key itself expires [`GRACE_MS`] after `e` as a backstop. ARGV: fingerprint, lease
/// (µs), ttl (µs), grace (ms).
const BEGIN: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rec = redis.call('HMGET', KEYS[1], 'f', 'l', 'b', 'e')
local f, l, b, e = rec[1], rec[2], rec[3], rec[4]
if f and e and tonumber(e) > now then
  if l then
    if tonumber(l) > now then
      if f ~= ARGV[1] then return {'mismatch'} end
      return {'in_progress'}
    end
  else
    if f ~= ARGV[1] then return {'mismatch'} end
    return {'completed', f, b or ''}
  end
end
local expires = now + tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'l', string.format('%d', now + tonumber(ARGV[2])),
  'e', string.format('%d', expires))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(tonumber(ARGV[3]) / 1000) + tonumber(ARGV[4])))
redis.call('ZADD', KEYS[2], string.format('%d', expires), KEYS[1])
return {'started'}
";

/// `complete`: the record becomes the response. ARGV: fingerprint, body, ttl (µs), grace (ms).
const COMPLETE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local expires = now + tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'b', ARGV[2], 'e', string.format('%d', expires))
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(tonumber(ARGV[3]) / 1000) + tonumber(ARGV[4])))
redis.call('ZADD', KEYS[2], string.format('%d', expires), KEYS[1])
return 1
";

/// `release`: removes the record only while it is in progress.
const RELEASE: &str = r"
if redis.call('HEXISTS', KEYS[1], 'l') == 1 then
  redis.call('ZREM', KEYS[2], KEYS[1])
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// `purge_expired`: removes up to ARGV[1] records whose expiry has passed; index entries of
/// records already gone (the backstop expiry) are dropped without counting.
const PURGE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'LIMIT', 0, ARGV[1])
local removed = 0
for _, key in ipairs(due) do
  local e = redis.call('HGET', key, 'e')
  if e and tonumber(e) <= now then
    redis.call('DEL', key)
    removed = removed + 1
  end
  redis.call('ZREM', KEYS[1], key)
end
return removed
";

/// How long a record's key outlives its expiry in Redis before Redis drops it unpurged.
const GRACE_MS: u64 = 10 * 60 * 1000;

static PURGE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(PURGE));
static BEGIN_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(BEGIN));
static COMPLETE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(COMPLETE));
static RELEASE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RELEASE));

impl RedisStore {
    /// The record's key: the sender's length first, so no (sender, key) pair can produce
    /// another pair's key.
    fn index_key(&self) -> String {
        self.key("idem-expiry", "")
    }

    fn record_key(&self, key: &IdempotencyKey) -> String {
        self.key(
            "idem",
            &format!("{}:{}:{}", key.sender.len(), key.sender, key.key),
        )
    }
}

impl IdempotencyStore for RedisStore {
    fn begin<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        fingerprint: &'a str,
        lease: Duration,
        ttl: Duration,
    ) -> StoreFuture<'a, Begin> {
        Box::pin(async move {
            let lease_micros = micros(lease);
            let answer: Vec<Vec<u8>> = BEGIN_SCRIPT
                .key(self.record_key(key))
                .key(self.index_key())
                .arg(fingerprint)
                .arg(lease_micros)
                .arg(micros(ttl))
                .arg(GRACE_MS)
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| redis_error("idempotency begin", e))?;
            let corrupt =
                || StoreError::new(ErrorKind::Corrupt, "Redis store: unexpected begin answer");
            match answer.as_slice() {
                [tag] if tag == b"started" => Ok(Begin::Started),
                [tag] if tag == b"in_progress" => Ok(Begin::InProgress),
                [tag] if tag == b"mismatch" => Ok(Begin::Mismatch),
                [tag, f, body] if tag == b"completed" => Ok(Begin::Completed(StoredResponse {
                    fingerprint: String::from_utf8(f.clone()).map_err(|_| corrupt())?,
                    body: body.clone(),
                })),
                _ => Err(corrupt()),
            }
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a IdempotencyKey,
        response: &'a StoredResponse,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _: i64 = COMPLETE_SCRIPT
                .key(self.record_key(key))
                .key(self.index_key())
                .arg(response.fingerprint.as_str())
                .arg(response.body.as_slice())
                .arg(micros(ttl))
                .arg(GRACE_MS)
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| redis_error("idempotency complete", e))?;
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a IdempotencyKey) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _: i64 = RELEASE_SCRIPT
                .key(self.record_key(key))
                .key(self.index_key())
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| redis_error("idempotency release", e))?;
            Ok(())
        })
    }

    fn purge_expired(&self, limit: usize) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            if limit == 0 {
                return Ok(0);
            }
            let removed: u64 = PURGE_SCRIPT
                .key(self.index_key())
                .arg(i64::try_from(limit).unwrap_or(i64::MAX))
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| redis_error("idempotency purge", e))?;
            Ok(removed)
        })
    }
}

/// A duration in microseconds, saturating.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
