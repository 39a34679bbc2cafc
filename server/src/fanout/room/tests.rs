//! The room's bookkeeping of what each slice of watchers was sent.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use votewire_proto::{
    NodeId, PollEvent, PollEventKind, PollId, PollStatus, ResultsVisibility, ServerMessage, Tally,
};

use super::{Room, SLICES, Seed};
use crate::fanout::pace::Pacer;
use crate::fanout::slot::Outbox;
use crate::fanout::stats::FanoutStats;
use crate::results::Reader;

fn room() -> (Arc<Room>, Arc<FanoutStats>) {
    let stats = Arc::new(FanoutStats::default());
    let tick = Duration::from_millis(50);
    let pacer = Arc::new(Pacer::new(tick, tick));
    let room = Room::new(PollId::parse("p").unwrap(), stats.clone(), pacer);
    (room, stats)
}

fn tally(version: u64) -> Tally {
    Tally {
        version,
        counts: vec![version, 0],
        total: version,
    }
}

fn vote(version: u64, option: u32) -> PollEvent {
    PollEvent {
        poll: PollId::parse("p").unwrap(),
        node: NodeId::parse("n1").unwrap(),
        at: Utc::now(),
        status: PollStatus::Open,
        tally: tally(version),
        results: ResultsVisibility::Live,
        kind: PollEventKind::Votes {
            options: vec![Some(option)],
            more: 0,
            sets: Vec::new(),
            recorded_by: Vec::new(),
            voters: Vec::new(),
        },
    }
}

fn seeded(room: &Room, version: u64) {
    room.seed(Seed {
        status: PollStatus::Open,
        results: ResultsVisibility::Live,
        tally: tally(version),
        closes_at: None,
    });
}

/// One watcher per slice, in slice order.
fn watch_every_slice(room: &Room, stats: &Arc<FanoutStats>) -> Vec<Arc<Outbox>> {
    (0..SLICES as u64)
        .map(|socket| {
            let outbox = Outbox::new(stats.clone());
            room.add_watcher(socket, outbox.clone(), Reader::Anyone);
            outbox
        })
        .collect()
}

fn received(outbox: &Outbox) -> Vec<ServerMessage> {
    outbox
        .take()
        .into_iter()
        .map(|pending| serde_json::from_str(pending.frame.as_str()).unwrap())
        .collect()
}

#[test]
fn the_first_seed_is_every_watchers_snapshot_so_no_update_repeats_it() {
    let (room, stats) = room();
    let outboxes = watch_every_slice(&room, &stats);
    seeded(&room, 3);
    assert!(!room.flush(), "nothing is due after the first seed");
    assert!(outboxes.iter().all(|o| o.is_empty()));
}

#[test]
fn each_slice_gets_the_votes_since_its_own_last_frame() {
    let (room, stats) = room();
    let outboxes = watch_every_slice(&room, &stats);
    seeded(&room, 0);
    room.deliver(&vote(1, 0));
    assert!(
        room.flush_slices(std::iter::once(0)).is_some(),
        "slice 0 alone"
    );
    room.deliver(&vote(2, 1));
    assert!(room.flush());
    let recent_of = |messages: Vec<ServerMessage>| -> Vec<Vec<Option<u32>>> {
        messages
            .into_iter()
            .map(|m| match m {
                ServerMessage::Update { recent, .. } => recent.iter().map(|r| r.option).collect(),
                other => panic!("expected an update, got {other:?}"),
            })
            .collect()
    };
    // Slice 0 had vote 1 in its first frame; its outbox holds only the newest frame.
    assert_eq!(recent_of(received(&outboxes[0])), vec![vec![Some(1)]]);
    for outbox in &outboxes[1..] {
        assert_eq!(recent_of(received(outbox)), vec![vec![Some(0), Some(1)]]);
    }
    assert!(!room.flush(), "every slice is up to date");
}

#[test]
fn a_poll_closed_without_a_vote_still_sends_closed() {
    let (room, stats) = room();
    let outboxes = watch_every_slice(&room, &stats);
    // Its closing time has passed: a late vote cannot reopen it.
    room.seed(Seed {
        status: PollStatus::Open,
        results: ResultsVisibility::Live,
        tally: tally(0),
        closes_at: Some(Utc::now() - chrono::Duration::seconds(1)),
    });
    room.deliver(&PollEvent {
        status: PollStatus::Closed,
        kind: PollEventKind::Closed,
        ..vote(0, 0)
    });
    assert!(room.flush());
    for outbox in &outboxes {
        let messages = received(outbox);
        assert!(
            matches!(messages[..], [ServerMessage::Closed { ref tally, .. }] if tally.version == 0),
            "{messages:?}"
        );
    }
    // A vote committed just before the closing time goes out as a newer `closed`.
    room.deliver(&vote(1, 0));
    assert!(room.flush());
    assert!(matches!(
        received(&outboxes[3])[..],
        [ServerMessage::Closed { ref tally, .. }] if tally.version == 1
    ));
}

#[test]
fn older_and_repeated_events_change_nothing() {
    let (room, stats) = room();
    let outboxes = watch_every_slice(&room, &stats);
    seeded(&room, 5);
    room.deliver(&vote(4, 0));
    room.deliver(&vote(5, 0));
    assert!(!room.flush());
    assert!(outboxes.iter().all(|o| o.is_empty()));
}

/// What an update or close shows: its counts (empty: hidden) and its recent options.
fn shown_of(outbox: &Outbox) -> (Vec<u64>, usize) {
    match received(outbox).pop() {
        Some(ServerMessage::Update { tally, recent, .. }) => (tally.counts, recent.len()),
        Some(ServerMessage::Closed { tally, .. }) => (tally.counts, 0),
        other => panic!("expected an update or a close, got {other:?}"),
    }
}

#[test]
fn an_after_vote_room_shows_the_counts_to_its_owner_and_to_voters_once_they_voted() {
    let (room, stats) = room();
    let owner = Outbox::new(stats.clone());
    let voter = Outbox::of_voter(stats.clone(), Some("v1".into()));
    let stranger = Outbox::of_voter(stats.clone(), Some("v2".into()));
    room.add_watcher(0, owner.clone(), Reader::Owner);
    room.add_watcher(1, voter.clone(), Reader::Anyone);
    room.add_watcher(2, stranger.clone(), Reader::Anyone);
    room.seed(Seed {
        status: PollStatus::Open,
        results: ResultsVisibility::AfterVote,
        tally: tally(0),
        closes_at: None,
    });
    let after_vote = |version, voters: &[&str]| PollEvent {
        results: ResultsVisibility::AfterVote,
        kind: PollEventKind::Votes {
            options: vec![Some(0)],
            more: 0,
            sets: Vec::new(),
            recorded_by: Vec::new(),
            voters: voters.iter().map(|v| v.to_string()).collect(),
        },
        ..vote(version, 0)
    };
    room.deliver(&after_vote(1, &["v9"]));
    assert!(room.flush());
    assert_eq!(shown_of(&owner), (vec![1, 0], 1));
    assert_eq!(
        shown_of(&voter),
        (vec![], 0),
        "no counts, no recent options"
    );
    assert_eq!(shown_of(&stranger), (vec![], 0));
    room.deliver(&after_vote(2, &["v1"]));
    assert!(room.flush());
    assert_eq!(shown_of(&voter).0, vec![2, 0], "v1 voted: it sees them now");
    assert_eq!(shown_of(&stranger).0, Vec::<u64>::new());
    // The close shows them to everyone.
    room.deliver(&PollEvent {
        status: PollStatus::Closed,
        kind: PollEventKind::Closed,
        ..after_vote(2, &[])
    });
    assert!(room.flush());
    assert_eq!(shown_of(&stranger).0, vec![2, 0]);
}

#[test]
fn revealing_hidden_results_sends_every_watcher_the_counts() {
    let (room, stats) = room();
    let outboxes = watch_every_slice(&room, &stats);
    room.seed(Seed {
        status: PollStatus::Open,
        results: ResultsVisibility::Hidden,
        tally: tally(3),
        closes_at: None,
    });
    room.deliver(&PollEvent {
        results: ResultsVisibility::Hidden,
        ..vote(4, 0)
    });
    assert!(room.flush());
    assert!(outboxes.iter().all(|o| shown_of(o).0.is_empty()));
    // An older event cannot bring the visibility back: the newest version decides.
    room.deliver(&PollEvent {
        kind: PollEventKind::Changed,
        ..vote(5, 0)
    });
    room.deliver(&PollEvent {
        results: ResultsVisibility::Hidden,
        ..vote(4, 0)
    });
    assert!(room.flush());
    assert!(outboxes.iter().all(|o| shown_of(o).0 == vec![5, 0]));
}

#[test]
fn only_a_newer_state_reopens_a_closed_poll() {
    let (room, stats) = room();
    let outboxes = watch_every_slice(&room, &stats);
    seeded(&room, 4);
    let closed = PollEvent {
        status: PollStatus::Closed,
        kind: PollEventKind::Closed,
        ..vote(4, 0)
    };
    room.deliver(&closed);
    assert!(room.flush());
    outboxes.iter().for_each(|o| drop(received(o)));
    // News of the open poll from before the close changes nothing.
    room.deliver(&PollEvent {
        kind: PollEventKind::Resync,
        ..vote(4, 0)
    });
    assert!(!room.flush());
    // The owner reopened it: a newer version that says open.
    room.deliver(&PollEvent {
        kind: PollEventKind::Changed,
        ..vote(5, 0)
    });
    assert!(room.flush());
    for outbox in &outboxes {
        assert!(
            matches!(received(outbox)[..], [ServerMessage::Update { ref tally, .. }] if tally.version == 5)
        );
    }
    assert_eq!(room.state().unwrap().status, PollStatus::Open);
}

#[tokio::test(start_paused = true)]
async fn a_quiet_room_sends_at_once_and_a_busy_one_waits_twice_its_flight() {
    let ms = Duration::from_millis;
    let stats = Arc::new(FanoutStats::default());
    let pacer = Arc::new(Pacer::new(ms(50), ms(1000)));
    let room = Room::new(PollId::parse("p").unwrap(), stats.clone(), pacer.clone());
    let outbox = Outbox::new(stats.clone());
    room.add_watcher(0, outbox.clone(), Reader::Anyone);
    seeded(&room, 0);
    let stop = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(room.clone().run_flusher(stop.clone()));
    let versions = |outbox: &Outbox| -> Vec<u64> {
        received(outbox)
            .iter()
            .map(|m| m.tally().unwrap().version)
            .collect()
    };

    let start = tokio::time::Instant::now();
    room.deliver(&vote(1, 0));
    room.deliver(&vote(2, 1));
    tokio::time::sleep_until(start + ms(1)).await;
    room.deliver(&vote(3, 0));
    // The client reads the first frame (and answers its probe) 30 ms after it was sent:
    // the next flush waits twice that.
    tokio::time::sleep_until(start + ms(30)).await;
    assert_eq!(versions(&outbox), [2], "the leading edge, at once");
    tokio::time::sleep_until(start + ms(59)).await;
    assert!(outbox.is_empty(), "not before twice the flight");
    tokio::time::sleep_until(start + ms(61)).await;
    assert_eq!(pacer.current_tick(), ms(60));
    assert_eq!(versions(&outbox), [3]);

    // Quiet again: the next change goes out at once.
    tokio::time::sleep_until(start + ms(2000)).await;
    room.deliver(&vote(4, 1));
    tokio::time::sleep_until(start + ms(2001)).await;
    assert_eq!(versions(&outbox), [4]);
    stop.notify_one();
}

#[tokio::test(start_paused = true)]
async fn a_reader_that_stalls_does_not_slow_a_small_room() {
    let ms = Duration::from_millis;
    let stats = Arc::new(FanoutStats::default());
    let pacer = Arc::new(Pacer::new(ms(50), ms(1000)));
    let room = Room::new(PollId::parse("p").unwrap(), stats.clone(), pacer);
    let outboxes: Vec<_> = (0..3).map(|_| Outbox::new(stats.clone())).collect();
    for (socket, outbox) in outboxes.iter().enumerate() {
        room.add_watcher(socket as u64, outbox.clone(), Reader::Anyone);
    }
    seeded(&room, 0);
    let stop = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(room.clone().run_flusher(stop.clone()));

    let start = tokio::time::Instant::now();
    room.deliver(&vote(1, 0));
    tokio::time::sleep_until(start + ms(1)).await;
    room.deliver(&vote(2, 0));
    // Two of the three read their frame 30 ms in; the third never reads.
    tokio::time::sleep_until(start + ms(30)).await;
    for outbox in &outboxes[..2] {
        assert_eq!(received(outbox).len(), 1);
    }
    tokio::time::sleep_until(start + ms(61)).await;
    for outbox in &outboxes[..2] {
        let versions: Vec<u64> = received(outbox)
            .iter()
            .map(|m| m.tally().unwrap().version)
            .collect();
        assert_eq!(
            versions,
            [2],
            "paced by the two that read, not by the longest tick"
        );
    }
    stop.notify_one();
}
