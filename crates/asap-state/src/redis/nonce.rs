use std::time::Duration;

use super::{RedisStore, millis, redis_error};
use crate::{NonceStore, StoreFuture};

impl NonceStore for RedisStore {
    fn check_and_mark<'a>(&'a self, nonce: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            // One command: set only when absent (an expired key is absent), so exactly one of
            // racing calls gets OK.
            let answer: Option<String> = redis::cmd("SET")
                .arg(self.key("nonce", nonce))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl))
                .query_async(&mut self.conn())
                .await
                .map_err(|e| redis_error("nonce check", e))?;
            Ok(answer.is_some())
        })
    }
}
