//! The vote path through the store: one transaction for a batch of ballots (the group
//! commit), against SQLite in a temporary folder, for batch sizes a busy poll sees.
//! The time per batch divided by its size is what one vote costs the database.
//!
//! Run with `cargo bench -p votewire-benches --bench store`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use votewire_proto::{NodeId, PollId};
use votewire_server::store::{self, Ballot, Choice, PollRecord, Store, VoteBatch};

const OPTIONS: usize = 4;

fn vote_batch(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let folder = std::env::temp_dir().join(format!("votewire-bench-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let url = format!("sqlite://{}/bench.db", folder.display());
    let store: Arc<dyn Store> = runtime.block_on(async {
        let store = store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        store
    });
    let poll = PollId::parse("benchpoll").unwrap();
    let record = PollRecord {
        id: poll.clone(),
        question: "Which?".into(),
        options: (0..OPTIONS).map(|i| format!("option {i}")).collect(),
        created_at: Utc::now(),
        closes_at: None,
        closed_at: None,
        mode: votewire_proto::VotingMode::Open,
        join_code: None,
        listed: true,
        paused: false,
        results: Default::default(),
        max_choices: 1,
    };
    runtime.block_on(store.create_poll(&record, None)).unwrap();
    let node = NodeId::parse("node-1").unwrap();
    // New voters every time, as in a viral poll: each ballot inserts a row.
    let next_voter = AtomicU64::new(0);

    let mut group = c.benchmark_group("vote_batch_sqlite");
    for size in [1usize, 16, 64, 256] {
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, &size| {
            b.iter(|| {
                let ballots = (0..size)
                    .map(|i| Ballot {
                        voter: format!("voter{}", next_voter.fetch_add(1, Relaxed)),
                        choice: Choice::One((i % OPTIONS) as u32),
                        seq: None,
                        entry: None,
                        admission: Default::default(),
                    })
                    .collect();
                let batch = VoteBatch {
                    poll: poll.clone(),
                    node: node.clone(),
                    now: Utc::now(),
                    ballots,
                };
                let outcome = runtime.block_on(store.vote_batch(batch)).unwrap();
                assert_eq!(outcome.results.len(), size);
            })
        });
    }
    group.finish();
    drop(store);
    let _ = std::fs::remove_dir_all(&folder);
}

criterion_group!(benches, vote_batch);
criterion_main!(benches);
