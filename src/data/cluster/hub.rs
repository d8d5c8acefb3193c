//! What the WebSub hub keeps in the shared server (sections 15 and 16): every subscription,
//! as opaque bytes in one hash, with a generation that moves at each change (so that an
//! instance reads them all again only when they changed), and a claim per subscription and
//! change, so that each change is delivered by one instance.

use std::time::Duration;

use redis::AsyncCommands;

use super::Cluster;

/// How long a claim is kept: longer than a change's last retry (2 h 36 min after it).
const CLAIM_TTL: Duration = Duration::from_secs(24 * 3600);

impl Cluster {
    fn hub_subscriptions_key(&self) -> String {
        self.key("websub:subscriptions")
    }

    fn hub_generation_key(&self) -> String {
        self.key("websub:generation")
    }

    /// The subscriptions' generation (0 before any), `None` when the server cannot say.
    pub async fn hub_generation(&self) -> Option<u64> {
        let key = self.hub_generation_key();
        let generation = self
            .call(async move |mut c| c.get::<_, Option<u64>>(&key).await)
            .await?;
        Some(generation.unwrap_or(0))
    }

    /// Every subscription kept, with the generation it belongs to; `None` when the server
    /// cannot say.
    pub async fn hub_subscriptions(&self) -> Option<(u64, Vec<Vec<u8>>)> {
        let (key, generation) = (self.hub_subscriptions_key(), self.hub_generation_key());
        let (generation, values) = self
            .call(async move |mut c| {
                redis::pipe()
                    .get(&generation)
                    .hvals(&key)
                    .query_async::<(Option<u64>, Vec<Vec<u8>>)>(&mut c)
                    .await
            })
            .await?;
        Some((generation.unwrap_or(0), values))
    }

    /// Keeps `value` as the subscription `field` (or removes it, for `None`); the new
    /// generation, `None` when the server did not take it.
    pub async fn hub_write(&self, field: &str, value: Option<&[u8]>) -> Option<u64> {
        let (key, generation) = (self.hub_subscriptions_key(), self.hub_generation_key());
        self.call(async move |mut c| {
            let mut pipe = redis::pipe();
            match value {
                Some(value) => pipe.hset(&key, field, value).ignore(),
                None => pipe.hdel(&key, field).ignore(),
            };
            let (generation,) = pipe
                .incr(&generation, 1)
                .query_async::<(u64,)>(&mut c)
                .await?;
            Ok(generation)
        })
        .await
    }

    /// Claims the delivery `name` (a subscription and a change) for this instance: `Some(true)`
    /// when it is this instance's to deliver, `Some(false)` when another instance has it,
    /// `None` when the server cannot say (deliver, as alone).
    pub async fn hub_claim(&self, name: &str) -> Option<bool> {
        let claimed = self.lock(&format!("websub:{name}"), CLAIM_TTL).await?;
        Some(claimed.is_some())
    }
}
