//! What the command line accepts, refuses and documents.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use super::{Cli, Run};

fn parse(args: &[&str]) -> Result<Run, String> {
    let mut full = vec!["votewire"];
    full.extend_from_slice(args);
    Cli::try_parse_from(full)
        .map_err(|e| e.to_string())?
        .into_run()
}

#[test]
fn no_arguments_serve_on_8080_with_sqlite_in_data() {
    let Ok(Run::Serve(s)) = parse(&[]) else {
        panic!("expected serve")
    };
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database_url, "sqlite://data/votewire.db");
    assert_eq!(s.key_file, PathBuf::from("data/signing.key"));
    assert_eq!(s.admin_listen, None, "/metrics stays on the one listener");
    assert_eq!(s.limits.socket_send_buffer_bytes, 64 * 1024);
    assert_eq!(s.limits.header_read_timeout, Duration::from_secs(10));
}

#[test]
fn bad_settings_are_refused_with_the_flag_named() {
    let err = parse(&["serve", "--node-id", "a b"]).err().unwrap();
    assert!(err.contains("--node-id"), "{err}");
    let err = parse(&["--allowed-origin", "example.com"]).err().unwrap();
    assert!(err.contains("--allowed-origin"), "{err}");
    for bad in [
        "'none',https://a.example",
        "https://a.example;script-src *",
        "a.example",
    ] {
        let err = parse(&["--frame-ancestors", bad]).err().unwrap();
        assert!(err.contains("--frame-ancestors"), "{bad}: {err}");
    }
    assert!(parse(&["--frame-ancestors", "'self',https://intranet.example.com"]).is_ok());
    assert!(parse(&["--tick-ms", "0"]).is_err());
    let err = parse(&["--tick-ms", "100", "--max-tick-ms", "50"])
        .err()
        .unwrap();
    assert!(err.contains("--max-tick-ms"), "{err}");
    let err = parse(&["--vote-batch-max", "0"]).err().unwrap();
    assert!(err.contains("--vote-batch-max"), "{err}");
    let err = parse(&["--replica", "redis://app:s3cret@x/db"])
        .err()
        .unwrap();
    assert!(err.contains("--replica"), "{err}");
    assert!(!err.contains("s3cret"), "no password in an error: {err}");
    let err = parse(&["--header-read-timeout-ms", "0"]).err().unwrap();
    assert!(err.contains("--header-read-timeout-ms"), "{err}");
    let err = parse(&[
        "--listen",
        "127.0.0.1:9000",
        "--admin-listen",
        "127.0.0.1:9000",
    ])
    .err()
    .unwrap();
    assert!(err.contains("--admin-listen"), "{err}");
    let err = parse(&["--replica-max-lag-ms", "10"]).err().unwrap();
    assert!(err.contains("--replica-max-lag-ms"), "{err}");
}

#[test]
fn replicas_repeat_or_come_comma_separated() {
    let Ok(Run::Serve(s)) = parse(&[
        "--replica",
        "postgres://r1/votewire",
        "--replica",
        "postgres://r2/votewire,mysql://r3/votewire",
    ]) else {
        panic!("expected serve")
    };
    assert_eq!(
        s.replica_urls,
        [
            "postgres://r1/votewire",
            "postgres://r2/votewire",
            "mysql://r3/votewire"
        ]
    );
    assert_eq!(s.replica_max_lag, Duration::from_secs(5));
}

#[test]
fn abuse_limits_take_addresses_or_cidrs_and_refuse_zero() {
    let Ok(Run::Serve(s)) = parse(&[
        "--trusted-proxy",
        "127.0.0.1",
        "--trusted-proxy",
        "10.0.0.0/8,fd00::/8",
        "--rate-limit-exempt",
        "::1",
        "--voters-burst",
        "5",
    ]) else {
        panic!("expected serve")
    };
    let nets = |list: &[ipnet::IpNet]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert_eq!(
        nets(&s.abuse.trusted_proxies),
        ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]
    );
    assert_eq!(nets(&s.abuse.exempt), ["::1/128"]);
    assert_eq!(s.abuse.voters.burst, 5);
    assert_eq!(s.abuse.voters.per_minute, 300);
    let err = parse(&["--trusted-proxy", "10.0.0.0/33"]).err().unwrap();
    assert!(err.contains("--trusted-proxy"), "{err}");
    let err = parse(&["--rate-limit-exempt", "localhost"]).err().unwrap();
    assert!(err.contains("--rate-limit-exempt"), "{err}");
    for flag in ["--votes-per-minute", "--ws-connects-burst"] {
        let err = parse(&[flag, "0"]).err().unwrap();
        assert!(err.contains(&flag[..flag.rfind('-').unwrap()]), "{err}");
    }
    let err = parse(&["--max-connections-per-address", "0"])
        .err()
        .unwrap();
    assert!(err.contains("--max-connections-per-address"), "{err}");
}

#[test]
fn every_setting_is_in_the_readme() {
    use clap::CommandFactory;
    let readme = include_str!("../../../README.md");
    for arg in Cli::command().get_arguments() {
        if let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) {
            let row = format!("| `--{long}` | `{}` |", env.to_string_lossy());
            assert!(readme.contains(&row), "README's settings table lacks {row}");
        }
    }
}

#[test]
fn migrate_takes_the_database_url() {
    let Ok(Run::Migrate { database_url }) = parse(&["migrate", "--database", "sqlite://x.db"])
    else {
        panic!("expected migrate")
    };
    assert_eq!(database_url, "sqlite://x.db");
}

/// A file holding `content` in a folder of this test process's own.
fn secret_file(name: &str, content: &str) -> String {
    let dir = std::env::temp_dir().join(format!("votewire-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[test]
fn urls_with_passwords_are_read_from_files() {
    let database = secret_file("database", "postgres://app:s3cret@db:5432/votewire\n");
    let replicas = secret_file("replicas", "postgres://r:pw@r1/v\npostgres://r:pw@r2/v,\n");
    let redis = secret_file("redis", "rediss://:pw@cache:6380\n");
    let Ok(Run::Serve(s)) = parse(&[
        "--database-file",
        &database,
        "--replica-file",
        &replicas,
        "--redis-file",
        &redis,
    ]) else {
        panic!("expected serve")
    };
    assert_eq!(s.database_url, "postgres://app:s3cret@db:5432/votewire");
    assert_eq!(
        s.replica_urls,
        ["postgres://r:pw@r1/v", "postgres://r:pw@r2/v"]
    );
    assert_eq!(s.redis_url.as_deref(), Some("rediss://:pw@cache:6380"));
    let Ok(Run::Migrate { database_url }) = parse(&["migrate", "--database-file", &database])
    else {
        panic!("expected migrate")
    };
    assert_eq!(database_url, "postgres://app:s3cret@db:5432/votewire");
}

#[test]
fn a_url_file_that_is_missing_empty_or_doubled_is_refused_without_its_content() {
    let database = secret_file("doubled", "postgres://app:s3cret@db/votewire\n");
    let err = parse(&["--database", "sqlite://x.db", "--database-file", &database])
        .err()
        .unwrap();
    assert!(err.contains("--database or --database-file"), "{err}");
    let empty = secret_file("empty", "\n");
    let err = parse(&["--redis-file", &empty]).err().unwrap();
    assert!(err.contains("is empty") && err.contains(&empty), "{err}");
    let err = parse(&["--replica-file", "/nonexistent/replicas"])
        .err()
        .unwrap();
    assert!(err.contains("/nonexistent/replicas"), "{err}");
    let bad = secret_file("bad-replica", "oracle://u:s3cret@db/v\n");
    let err = parse(&["--replica-file", &bad]).err().unwrap();
    assert!(
        err.contains("--replica") && !err.contains("s3cret"),
        "{err}"
    );
}

#[test]
fn seed_defaults_to_the_local_node_and_refuses_what_it_cannot_do() {
    let Ok(Run::Seed(plan)) = parse(&["seed"]) else {
        panic!("expected seed")
    };
    assert_eq!(plan.url, "http://127.0.0.1:8080");
    assert_eq!((plan.polls, plan.voters, plan.votes), (3, 150, None));
    assert_eq!(plan.duration, Some(Duration::from_secs(300)));
    let Ok(Run::Seed(plan)) = parse(&["seed", "--url", "http://nginx:80/", "--duration-secs", "0"])
    else {
        panic!("expected seed")
    };
    assert_eq!(
        (plan.url.as_str(), plan.duration),
        ("http://nginx:80", None)
    );
    for (args, flag) in [
        (&["seed", "--url", "https://vote.example.com"][..], "--url"),
        (&["seed", "--url", "http://host/api"][..], "--url"),
        (&["seed", "--polls", "0"][..], "--polls"),
        (&["seed", "--polls", "5"][..], "--polls"),
        (&["seed", "--votes-per-sec", "0"][..], "--votes-per-sec"),
        (&["seed", "--voters", "0"][..], "--voters"),
    ] {
        let err = parse(args).err().unwrap();
        assert!(err.contains(flag), "{args:?}: {err}");
    }
}
