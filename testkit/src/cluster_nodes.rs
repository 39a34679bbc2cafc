//! `CLUSTER NODES` as a Redis Cluster server answers it, read into rows: one per
//! server, `<id> <ip:port@bus> <flags> <master id or -> <ping> <pong> <epoch> <link>
//! <slot ranges>...`. What the tests ask of it: which master serves a slot, and which
//! replica follows a master.

/// One server of the cluster, as the server asked sees it.
#[derive(Debug, Clone)]
pub struct ClusterNode {
    pub id: String,
    pub port: u16,
    /// Flagged `master` (a master that lost its slots may still be one, with none).
    pub master: bool,
    /// Not flagged `fail` or `fail?`.
    pub up: bool,
    /// The master a replica follows.
    pub follows: Option<String>,
    /// The slot ranges it serves, first and last slot.
    pub slots: Vec<(u16, u16)>,
}

/// The rows of a `CLUSTER NODES` answer.
pub fn parse(answer: &str) -> Vec<ClusterNode> {
    answer
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let address = fields.get(1)?.split('@').next()?;
            let flags: Vec<&str> = fields.get(2)?.split(',').collect();
            let follows = fields
                .get(3)
                .filter(|&&m| m != "-")
                .map(|m| (*m).to_owned());
            let slots = fields
                .iter()
                .skip(8)
                .filter_map(|range| match range.split_once('-') {
                    Some((first, last)) => Some((first.parse().ok()?, last.parse().ok()?)),
                    None => range.parse().ok().map(|slot| (slot, slot)),
                })
                .collect();
            Some(ClusterNode {
                id: fields[0].to_owned(),
                port: address.rsplit(':').next()?.parse().ok()?,
                master: flags.contains(&"master"),
                up: !flags.iter().any(|f| *f == "fail" || *f == "fail?"),
                follows,
                slots,
            })
        })
        .collect()
}

/// The master that serves `slot` and a replica that follows it, among the servers
/// that are up: either may be missing during a failover.
pub fn shard(nodes: &[ClusterNode], slot: u16) -> (Option<&ClusterNode>, Option<&ClusterNode>) {
    let master = nodes.iter().find(|n| {
        n.master
            && n.up
            && n.slots
                .iter()
                .any(|(first, last)| (first..=last).contains(&&slot))
    });
    (master, master.and_then(|m| replica(nodes, &m.id)))
}

/// A replica that is up and follows the master `id`.
pub fn replica<'a>(nodes: &'a [ClusterNode], id: &str) -> Option<&'a ClusterNode> {
    nodes
        .iter()
        .find(|n| n.up && n.follows.as_deref() == Some(id))
}
