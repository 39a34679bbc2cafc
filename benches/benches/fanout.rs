//! The hot path of an update going out: encoding one, and a room flush to N sockets
//! (one serialization shared by all, then a push into each socket's outbox).
//!
//! Run with `cargo bench -p votewire-benches`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use votewire_proto::{
    NodeId, PollEvent, PollEventKind, PollId, PollStatus, RecentVote, ResultsVisibility,
    ServerMessage, Tally,
};
use votewire_server::fanout::{FanoutStats, Hub, Outbox, Pacer, encode};

fn tally(version: u64) -> Tally {
    Tally {
        version,
        counts: vec![version, 2 * version, 3, 4],
        total: 3 * version + 7,
    }
}

fn encode_update(c: &mut Criterion) {
    let node = NodeId::parse("node-1").unwrap();
    let update = ServerMessage::Update {
        poll: PollId::parse("abcdefghijkl").unwrap(),
        tally: tally(123_456),
        status: None,
        results: None,
        watching: Some(5_000),
        recent: (0..8)
            .map(|i| RecentVote {
                option: Some(i % 4),
                options: Vec::new(),
                node: node.clone(),
                at: Utc::now(),
            })
            .collect(),
        skipped: 17,
    };
    c.bench_function("encode_update", |b| b.iter(|| encode(black_box(&update))));
}

fn room_flush(c: &mut Criterion) {
    // A runtime that is never driven: the room's own flusher task never runs, so the
    // benchmark alone calls `flush`.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("room_flush");
    for sockets in [100u64, 1_000, 10_000] {
        let stats = Arc::new(FanoutStats::default());
        let tick = Duration::from_millis(50);
        let pacer = Arc::new(Pacer::new(tick, tick));
        let hub = Hub::new(pacer, stats.clone());
        let poll = PollId::parse("abcdefghijkl").unwrap();
        let outboxes: Vec<Arc<Outbox>> = (0..sockets).map(|_| Outbox::new(stats.clone())).collect();
        runtime.block_on(async {
            for (socket, outbox) in outboxes.iter().enumerate() {
                hub.join(&poll, socket as u64, outbox.clone());
            }
        });
        let room = hub.room(&poll).unwrap();
        let node = NodeId::parse("node-1").unwrap();
        let mut version = 0;
        group.throughput(Throughput::Elements(sockets));
        group.bench_with_input(BenchmarkId::from_parameter(sockets), &sockets, |b, _| {
            b.iter(|| {
                version += 1;
                room.deliver(&PollEvent {
                    poll: poll.clone(),
                    node: node.clone(),
                    at: Utc::now(),
                    status: PollStatus::Open,
                    tally: tally(version),
                    results: ResultsVisibility::Live,
                    kind: PollEventKind::Votes {
                        options: vec![Some(1)],
                        more: 0,
                        sets: Vec::new(),
                        recorded_by: Vec::new(),
                        voters: Vec::new(),
                    },
                });
                assert!(room.flush());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, encode_update, room_flush);
criterion_main!(benches);
