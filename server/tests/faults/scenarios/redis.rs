//! Redis, the bus between the nodes, going away under voting.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{OPTIONS, setup};
use crate::api::show;
use crate::checker;
use crate::cluster::{Db, REDIS_PASSWORD};

/// Signs in to the Redis on 127.0.0.1:`port` and answers PING with +PONG.
async fn redis_answers(port: u16) -> bool {
    let attempt = async {
        let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        let auth = format!("AUTH {REDIS_PASSWORD}\r\nPING\r\n");
        conn.write_all(auth.as_bytes()).await?;
        let mut buf = [0u8; 12];
        conn.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(&buf == b"+OK\r\n+PONG\r\n")
    };
    matches!(
        tokio::time::timeout(Duration::from_millis(500), attempt).await,
        Ok(Ok(true))
    )
}

/// Scenario 3: Redis killed for 5 s under voting: votes keep being acknowledged, and within 2 s of
/// Redis answering again every socket shows the exact final tally.
pub async fn redis_down(name: &'static str, k: u16) {
    let s = setup(name, k, Db::Mariadb).await;
    let mut watchers = s.direct_watchers(1).await;
    watchers.extend(s.nginx_watchers(3).await);
    let load = s.voting(16, Duration::from_millis(20), 100).await;

    s.cluster.signal("redis", "KILL").await;
    let down = Instant::now();
    let before = load.stats();
    // The outage itself lasts 5 s: this sleep is the fault, not a synchronisation.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (voters, stats) = load.finish().await;
    let outage = down.elapsed();
    eprintln!(
        "[{name}] during the {outage:.1?} outage: {} votes sent, {} acknowledged \
         (16 voters, 20 ms apart; slowest vote of the run {:.1?})",
        stats.sent - before.sent,
        stats.acked - before.acked,
        stats.slowest
    );
    assert!(
        stats.acked - before.acked >= 20,
        "[{name}] votes keep being acknowledged with Redis down: {stats:?}"
    );
    assert_eq!(
        stats.not_acked(),
        0,
        "[{name}] every vote is acknowledged with Redis down: {stats:?}"
    );
    let final_tally = checker::read_primary(&s.cluster, &s.poll, OPTIONS)
        .await
        .tally;
    let not_yet: Vec<String> = watchers
        .iter()
        .filter(|w| w.seen().last.as_ref() != Some(&final_tally))
        .map(|w| format!("{} ({})", w.label, w.node()))
        .collect();
    eprintln!(
        "[{name}] final tally {}; sockets not showing it before Redis returns: {not_yet:?}",
        show(&final_tally)
    );

    // `cluster.sh up` restarts Redis (only Redis) while we watch for it to answer and
    // then for every socket to heal.
    let heal = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !redis_answers(s.cluster.ports.redis).await {
            assert!(
                Instant::now() < deadline,
                "[{name}] Redis did not come back"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let back = Instant::now();
        eprintln!(
            "[{name}] Redis answers again, {:.1?} after it was killed",
            down.elapsed()
        );
        let mut slowest = Duration::ZERO;
        for w in &watchers {
            let healed = w
                .wait_until(back + Duration::from_secs(2), |seen| {
                    seen.last.as_ref() == Some(&final_tally)
                })
                .await;
            assert!(
                healed,
                "[{name}] socket {} does not show the final tally {} within 2 s of Redis \
                 returning: {}",
                w.label,
                show(&final_tally),
                w.seen().summary()
            );
            slowest = slowest.max(back.elapsed());
        }
        eprintln!("[{name}] every socket shows the final tally {slowest:.1?} after Redis returned");
    };
    tokio::join!(s.cluster.cluster_up(), heal);
    s.check(&voters, watchers).await;
}
