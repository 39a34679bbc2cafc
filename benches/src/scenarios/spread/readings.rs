//! What `spread` reads besides the public contract: Redis's own view of the
//! subscriptions, and the nodes' bus counters from their `/metrics`.

use std::time::{Duration, Instant};

use fred::prelude::{Builder, ClientLike, Config, Value};

use super::SETTLE;
use crate::client::Failure;
use crate::loopback::redacted;

/// A connection to the cluster's Redis, for PUBSUB and CLIENT LIST.
pub(super) struct Redis(fred::clients::Client);

impl Redis {
    pub(super) async fn connect(url: &str) -> Result<Self, Failure> {
        let at = redacted(url);
        let config = Config::from_url(url).map_err(|e| format!("--redis {at}: {e}"))?;
        let client = Builder::from_config(config)
            .build()
            .map_err(|e| format!("--redis {at}: {e}"))?;
        client
            .init()
            .await
            .map_err(|e| format!("connecting to Redis at {at}: {e}"))?;
        Ok(Self(client))
    }

    async fn command(&self, args: Vec<String>) -> Result<Value, Failure> {
        let (name, rest) = args.split_first().expect("a command has a name");
        let command = fred::types::CustomCommand::new(name.clone(), None, false);
        self.0
            .custom(command, rest.to_vec())
            .await
            .map_err(|e| format!("Redis {name}: {e}"))
    }

    /// Each channel's subscribers, sharded (SSUBSCRIBE) and plain (SUBSCRIBE) added: a
    /// node uses one kind, whichever its Redis offers.
    pub(super) async fn subscribers(&self, channels: &[String]) -> Result<Vec<u64>, Failure> {
        let mut counts = vec![0; channels.len()];
        for kind in ["SHARDNUMSUB", "NUMSUB"] {
            let mut args = vec!["PUBSUB".to_owned(), kind.to_owned()];
            args.extend(channels.iter().cloned());
            let Value::Array(pairs) = self.command(args).await? else {
                return Err(format!("PUBSUB {kind}: not an array"));
            };
            for (count, pair) in counts.iter_mut().zip(pairs.chunks(2)) {
                *count += pair
                    .get(1)
                    .and_then(Value::as_u64)
                    .ok_or_else(|| format!("PUBSUB {kind}: not a count"))?;
            }
        }
        Ok(counts)
    }

    /// The channels each connection subscribes to (`sub` + `ssub` of CLIENT LIST),
    /// for the connections that subscribe to any, in ascending order.
    pub(super) async fn subscriptions_per_connection(&self) -> Result<Vec<u64>, Failure> {
        let list = self.command(vec!["CLIENT".into(), "LIST".into()]).await?;
        let text = list.as_string().ok_or("CLIENT LIST: not a string")?;
        let mut counts: Vec<u64> = text
            .lines()
            .map(|line| field(line, "sub") + field(line, "ssub"))
            .filter(|&c| c > 0)
            .collect();
        counts.sort_unstable();
        Ok(counts)
    }
}

/// A numeric field of a CLIENT LIST line (`name=value`), 0 when absent.
fn field(line: &str, name: &str) -> u64 {
    line.split(' ')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

/// A node's rooms and tally traffic on the bus, from its `/metrics`.
#[derive(Debug, Clone, Copy)]
pub(super) struct NodeCounts {
    pub(super) rooms: u64,
    pub(super) published: u64,
    pub(super) received: u64,
}

impl NodeCounts {
    async fn read(http: &reqwest::Client, admin: &str) -> Result<Self, Failure> {
        let text = http
            .get(format!("{admin}/metrics"))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("{admin}/metrics: {e}"))?
            .text()
            .await
            .map_err(|e| format!("{admin}/metrics: {e}"))?;
        let sample = |name: &str| {
            text.lines()
                .find_map(|line| {
                    line.strip_prefix(name)?
                        .strip_prefix(' ')?
                        .parse::<f64>()
                        .ok()
                })
                .map(|value| value as u64)
                .ok_or_else(|| format!("{admin}/metrics has no {name}"))
        };
        Ok(Self {
            rooms: sample("votewire_rooms")?,
            published: sample("votewire_bus_published_total{kind=\"tally\"}")?,
            received: sample("votewire_bus_received_total{kind=\"tally\"}")?,
        })
    }

    /// Every node's counts, in the order of `admins`.
    pub(super) async fn read_all(admins: &[String]) -> Result<Vec<Self>, Failure> {
        let http = reqwest::Client::new();
        let mut all = Vec::with_capacity(admins.len());
        for admin in admins {
            all.push(Self::read(&http, admin).await?);
        }
        Ok(all)
    }

    /// The counts once every node received at least `predicted` tally messages since
    /// `before`, or as they are after [`SETTLE`]: a message to the node that published
    /// it may still be on its way when every socket shows the vote.
    pub(super) async fn settled(
        admins: &[String],
        before: &[Self],
        predicted: &[u64],
    ) -> Result<Vec<Self>, Failure> {
        let deadline = Instant::now() + SETTLE;
        loop {
            let now = Self::read_all(admins).await?;
            let arrived = now
                .iter()
                .zip(before)
                .zip(predicted)
                .all(|((now, before), &want)| now.received.saturating_sub(before.received) >= want);
            if arrived || Instant::now() >= deadline {
                return Ok(now);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn client_list_fields_are_read_by_name_and_missing_ones_are_zero() {
        let line = "id=7 addr=127.0.0.1:5 laddr=127.0.0.1:6379 fd=9 name= db=0 sub=0 psub=0 ssub=12 multi=-1";
        assert_eq!(field(line, "ssub"), 12);
        assert_eq!(field(line, "sub"), 0);
        assert_eq!(field(line, "psub"), 0);
        // Redis 6 has no ssub: a missing field counts nothing.
        assert_eq!(field("id=1 sub=3", "ssub"), 0);
        assert_eq!(field("id=1 sub=3", "sub"), 3);
    }
}
