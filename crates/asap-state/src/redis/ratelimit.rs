use std::sync::LazyLock;
use std::time::Duration;

use super::{RedisStore, redis_error};
use crate::{ErrorKind, RateDecision, RateLimitStore, RateQuota, StoreError, StoreFuture};

/// The GCRA of [`crate::gcra`] as one script, on the server's clock in microseconds (Lua
/// numbers are doubles: microsecond epoch times stay exact, nanoseconds would not).
/// KEYS[1]: the key's TAT; ARGV: emission interval (µs), limit. Answers {1, remaining} or
/// {0, retry-after µs}. The key expires when its TAT passes (then it is as good as new).
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
local base = now
if tat and tat > now then base = tat end
local ahead = base - now
local tolerance = interval * (limit - 1)
if ahead > tolerance then
  return {0, ahead - tolerance}
end
local used = 0
if interval > 0 then used = math.ceil(ahead / interval) end
local remaining = limit - 1 - used
if remaining < 0 then remaining = 0 end
local next_tat = base + interval
local ttl = math.ceil((next_tat - now) / 1000)
if ttl < 1 then ttl = 1 end
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', string.format('%d', ttl))
return {1, remaining}
";

static SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(GCRA));

impl RateLimitStore for RedisStore {
    fn check<'a>(&'a self, key: &'a str, quota: RateQuota) -> StoreFuture<'a, RateDecision> {
        Box::pin(async move {
            let interval = u64::try_from(quota.emission_interval().as_micros()).unwrap_or(u64::MAX);
            let (allowed, value): (i64, i64) = SCRIPT
                .key(self.key("rl", key))
                .arg(interval)
                .arg(quota.limit.get())
                .invoke_async(&mut self.conn())
                .await
                .map_err(|e| redis_error("rate limit check", e))?;
            let value = u64::try_from(value).map_err(|_| {
                StoreError::new(
                    ErrorKind::Corrupt,
                    "Redis store: negative rate-limit answer",
                )
            })?;
            Ok(if allowed == 1 {
                RateDecision::Allowed {
                    remaining: u32::try_from(value).unwrap_or(u32::MAX),
                }
            } else {
                RateDecision::Limited {
                    retry_after: Duration::from_micros(value),
                }
            })
        })
    }
}
