//! The limits on their own: buckets per address and per limit, the refusal's words
//! and Retry-After, exemption, the connection cap, and the pruning of quiet addresses.

use std::net::IpAddr;

use axum::response::IntoResponse;

use super::*;
use crate::settings::Settings;

fn limits(configure: impl FnOnce(&mut AbuseLimits)) -> AbuseLimits {
    let mut limits = Settings::for_data_dir("unused", "n1").abuse;
    configure(&mut limits);
    limits
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn each_address_and_each_limit_has_its_own_bucket() {
    let abuse = Abuse::new(limits(|l| {
        l.voters = Rate {
            burst: 2,
            per_minute: 1,
        }
    }));
    let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
    assert!(abuse.check(Limit::Voters, a).is_ok());
    assert!(abuse.check(Limit::Voters, a).is_ok());
    let refused = abuse
        .check(Limit::Voters, a)
        .expect_err("the burst is spent");
    assert!(
        abuse.check(Limit::Voters, b).is_ok(),
        "b has its own bucket"
    );
    assert!(abuse.check(Limit::Votes, a).is_ok(), "votes have their own");

    assert_eq!(refused.retry_after, Some(60), "one token a minute");
    assert_eq!(refused.refusal.code, ErrorCode::RateLimited);
    assert!(
        refused.refusal.message.contains("--voters-burst"),
        "{}",
        refused.refusal.message
    );
    let response = refused.into_response();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()[RETRY_AFTER], "60");
    let counted: Vec<_> = abuse.refusals().collect();
    assert_eq!(counted[0], ("voters", 1));
}

#[test]
fn an_ipv6_host_cannot_dodge_its_bucket_within_its_slash_64() {
    let abuse = Abuse::new(limits(|l| {
        l.polls = Rate {
            burst: 1,
            per_minute: 1,
        }
    }));
    assert!(abuse.check(Limit::Polls, ip("2001:db8::1")).is_ok());
    assert!(abuse.check(Limit::Polls, ip("2001:db8::2")).is_err());
    assert!(abuse.check(Limit::Polls, ip("2001:db8:0:1::1")).is_ok());
}

#[test]
fn exempt_addresses_pass_every_limit() {
    let one = Rate {
        burst: 1,
        per_minute: 1,
    };
    let abuse = Abuse::new(limits(|l| {
        l.votes = one;
        l.ws_connects = one;
        l.max_connections_per_address = 1;
        l.exempt = vec!["127.0.0.0/8".parse().unwrap()];
    }));
    let mut held = Vec::new();
    for _ in 0..5 {
        assert!(abuse.check(Limit::Votes, ip("127.0.0.1")).is_ok());
        held.push(abuse.connect(ip("127.0.0.2")).expect("exempt"));
    }
    assert!(held.iter().all(Option::is_none), "nothing counted");
    assert!(abuse.check(Limit::Votes, ip("192.0.2.1")).is_ok());
    assert!(abuse.check(Limit::Votes, ip("192.0.2.1")).is_err());
}

#[test]
fn sockets_are_capped_per_address_and_counted_as_connections() {
    let abuse = Abuse::new(limits(|l| l.max_connections_per_address = 2));
    let a = ip("192.0.2.1");
    let first = abuse.connect(a).unwrap();
    let _second = abuse.connect(a).unwrap();
    let refused = abuse.connect(a).expect_err("the cap");
    assert_eq!(refused.retry_after, None);
    assert!(
        refused
            .refusal
            .message
            .contains("--max-connections-per-address")
    );
    assert!(abuse.connect(ip("192.0.2.2")).is_ok());
    drop(first);
    assert!(abuse.connect(a).is_ok(), "a closed session frees its place");
    let counted: Vec<_> = abuse.refusals().collect();
    assert_eq!(counted[4], ("connections_per_address", 1));
}

#[test]
fn pruning_forgets_the_addresses_whose_buckets_are_full_again() {
    let abuse = Abuse::new(limits(|l| {
        // A token back every microsecond: full again at once, for the first address.
        l.voters = Rate {
            burst: 1,
            per_minute: 60_000_000,
        };
        l.polls = Rate {
            burst: 1,
            per_minute: 1,
        };
    }));
    abuse.check(Limit::Voters, ip("192.0.2.1")).unwrap();
    abuse.check(Limit::Polls, ip("192.0.2.2")).unwrap();
    assert_eq!(abuse.remembered(), 2);
    // Not a synchronisation: the first bucket's microsecond has to pass on the clock.
    std::thread::sleep(Duration::from_millis(2));
    abuse.prune();
    assert_eq!(abuse.remembered(), 1, "the empty bucket is remembered");
    assert!(abuse.check(Limit::Polls, ip("192.0.2.2")).is_err());
}

#[tokio::test(start_paused = true)]
async fn pruning_runs_until_the_shutdown() {
    let abuse = Arc::new(Abuse::new(limits(|_| {})));
    let shutdown = Shutdown::new();
    let pruning = tokio::spawn(abuse.clone().prune_until(shutdown.clone()));
    tokio::time::sleep(PRUNE_EVERY * 2).await;
    shutdown.fire();
    pruning
        .await
        .expect("the pruning task ends at the shutdown");
}

#[test]
fn the_limits_are_listed_in_their_declared_order() {
    for (index, limit) in Limit::ALL.into_iter().enumerate() {
        assert_eq!(limit as usize, index, "{limit:?}");
    }
}

#[test]
fn http_connections_are_capped_per_peer_except_for_proxies_and_exempt_addresses() {
    let abuse = Abuse::new(limits(|l| {
        l.max_http_connections_per_address = 1;
        l.trusted_proxies = vec!["10.0.0.1/32".parse().unwrap()];
        l.exempt = vec!["127.0.0.0/8".parse().unwrap()];
    }));
    let a = ip("192.0.2.1");
    let first = abuse.accept(a).unwrap();
    assert!(first.is_some(), "counted");
    let refused = abuse.accept(a).expect_err("the cap");
    assert!(
        refused
            .refusal
            .message
            .contains("--max-http-connections-per-address")
    );
    assert!(
        abuse.connect(a).unwrap().is_some(),
        "WebSocket sessions have their own cap"
    );
    for peer in ["10.0.0.1", "::ffff:10.0.0.1", "127.0.0.1"] {
        let places: Vec<_> = (0..3).map(|_| abuse.accept(ip(peer)).unwrap()).collect();
        assert!(places.iter().all(Option::is_none), "{peer} is not counted");
    }
    drop(first);
    assert!(
        abuse.accept(a).is_ok(),
        "a closed connection frees its place"
    );
    let counted: Vec<_> = abuse.refusals().collect();
    assert_eq!(counted[5], ("http_connections_per_address", 1));
}
