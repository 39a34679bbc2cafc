//! The monitoring files in `deploy/` name only what a node exports: every `votewire_*`
//! or `process_*` series in the Prometheus alert rules and the Grafana dashboard is a
//! family a real node's `/metrics` lists (or a histogram's `_bucket`, `_sum`,
//! `_count`), and the dashboard shows every family, so a new metric gets a panel and a
//! renamed one breaks this test rather than a graph.

use std::collections::BTreeSet;
use std::path::Path;

use votewire_server::settings::IngestMode;
use votewire_testkit::redis::RedisServer;
use votewire_testkit::{external_enabled, spawn_app_with, spawn_worker};

/// Every `votewire_*` and `process_*` name in `text`.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for prefix in ["votewire_", "process_"] {
        for (at, _) in text.match_indices(prefix) {
            let before = text[..at].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue; // inside a longer word
            }
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            names.insert(name);
        }
    }
    names
}

/// A file of `deploy/`.
fn deploy_file(path: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn every_series_the_dashboard_and_the_alerts_name_is_exported() {
    // A family with no sample yet is not written: give the node a replica (its own
    // database, read again) and a request, so that every family has one.
    let app = spawn_app_with(|s| s.replica_urls = vec![s.database_url.clone()]).await;
    assert_eq!(app.get("/livez").await.status(), 200);
    let mut metrics = app.metrics().await;
    app.stop().await;
    // The ingest series are a worker's (and a stream node's): a worker on a Redis of the
    // test's own exports them all. Without one they are left out of the comparison.
    let ingest = external_enabled("the ingest series of the dashboard");
    if ingest {
        let redis = RedisServer::start().await;
        let worker = spawn_worker(|s| {
            s.redis_url = Some(redis.url());
            s.ingest.mode = IngestMode::Stream;
        })
        .await;
        metrics.push_str(&worker.metrics().await);
        worker.stop().await;
    }
    let compared = |name: &String| ingest || !name.starts_with("votewire_ingest_");
    let mut families = BTreeSet::new();
    let mut exported = BTreeSet::new();
    for line in metrics.lines() {
        let Some(declared) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let (family, kind) = declared.split_once(' ').expect("# TYPE name kind");
        // OpenMetrics names a counter's family without the `_total` of its samples.
        let name = match kind {
            "counter" => format!("{family}_total"),
            _ => family.to_owned(),
        };
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                exported.insert(format!("{name}{suffix}"));
            }
        }
        families.insert(name.clone());
        exported.insert(name);
    }
    assert!(families.len() >= 10, "a node exports {families:?}");
    assert_eq!(
        families.contains("votewire_ingest_worker_lag_seconds"),
        ingest,
        "{families:?}"
    );

    let dashboard = deploy_file("grafana/votewire.json");
    let _: serde_json::Value = serde_json::from_str(&dashboard).expect("the dashboard is JSON");
    let alerts = deploy_file("prometheus/alerts.yml");
    for (file, text) in [("dashboard", &dashboard), ("alert rules", &alerts)] {
        let named: BTreeSet<String> = names_in(text).into_iter().filter(compared).collect();
        assert!(!named.is_empty(), "the {file} names no metric");
        let unknown: Vec<_> = named.difference(&exported).collect();
        assert!(
            unknown.is_empty(),
            "the {file} names {unknown:?}, which no node exports"
        );
    }
    let shown: BTreeSet<String> = names_in(&dashboard)
        .into_iter()
        .map(|name| {
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suffix| name.strip_suffix(suffix).filter(|f| families.contains(*f)));
            family.map_or(name.clone(), str::to_owned)
        })
        .collect();
    let missing: Vec<_> = families.difference(&shown).collect();
    assert!(
        missing.is_empty(),
        "the dashboard has no panel for {missing:?}"
    );
}

#[test]
fn names_are_whole_words() {
    let found =
        names_in(r#"rate(votewire_votes_total[1m]) / x_votewire_no + process_cpu_seconds_total"#);
    let found: Vec<_> = found.iter().map(String::as_str).collect();
    assert_eq!(found, ["process_cpu_seconds_total", "votewire_votes_total"]);
}
