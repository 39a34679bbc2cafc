//! The hub: this node's rooms, one per poll that at least one local socket watches.
//!
//! A room is created by its first watcher and removed, with its flusher task, by its
//! last. Join and leave run under the map's entry lock, so a room is never removed
//! while a watcher is being added to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use votewire_proto::{PollEvent, PollId};

use super::pace::Pacer;
use super::room::{Room, SocketId};
use super::slot::Outbox;
use super::stats::FanoutStats;
use crate::results::Reader;

struct RoomEntry {
    room: Arc<Room>,
    stop: Arc<Notify>,
    flusher: JoinHandle<()>,
}

/// Every room of this node.
pub struct Hub {
    rooms: DashMap<PollId, RoomEntry>,
    /// Watchers summed over rooms: a socket counts once per poll it watches.
    watchers: AtomicUsize,
    pacer: Arc<Pacer>,
    stats: Arc<FanoutStats>,
}

/// What joining a room did.
pub struct Joined {
    /// The room joined.
    pub room: Arc<Room>,
    /// True when this watcher created the room: it must subscribe on the bus.
    pub first: bool,
    /// False when the socket was watching the room already.
    pub added: bool,
}

impl Hub {
    /// A hub whose rooms flush at most once per tick of `pacer` under load and count
    /// what they send in `stats`.
    pub fn new(pacer: Arc<Pacer>, stats: Arc<FanoutStats>) -> Self {
        Self {
            rooms: DashMap::new(),
            watchers: AtomicUsize::new(0),
            pacer,
            stats,
        }
    }

    /// Adds a socket's outbox to the room of `poll`, creating the room when needed;
    /// the socket is anyone to the poll's results (the benchmarks' watchers).
    pub fn join(&self, poll: &PollId, socket: SocketId, outbox: Arc<Outbox>) -> Joined {
        self.join_as(poll, socket, outbox, Reader::Anyone)
    }

    /// [`Hub::join`] for a socket that is `reader` to the poll's results.
    pub(crate) fn join_as(
        &self,
        poll: &PollId,
        socket: SocketId,
        outbox: Arc<Outbox>,
        reader: Reader,
    ) -> Joined {
        let joined = match self.rooms.entry(poll.clone()) {
            Entry::Occupied(entry) => {
                let room = entry.get().room.clone();
                let added = room.add_watcher(socket, outbox, reader);
                Joined {
                    room,
                    first: false,
                    added,
                }
            }
            Entry::Vacant(entry) => {
                let room = Room::new(poll.clone(), self.stats.clone(), self.pacer.clone());
                room.add_watcher(socket, outbox, reader);
                let stop = Arc::new(Notify::new());
                let flusher = tokio::spawn(room.clone().run_flusher(stop.clone()));
                entry.insert(RoomEntry {
                    room: room.clone(),
                    stop,
                    flusher,
                });
                Joined {
                    room,
                    first: true,
                    added: true,
                }
            }
        };
        if joined.added {
            self.watchers.fetch_add(1, Relaxed);
        }
        joined
    }

    /// Removes a socket from the room of `poll`; true when that emptied and removed
    /// the room, so the bus subscription can go too.
    pub(crate) fn leave(&self, poll: &PollId, socket: SocketId) -> bool {
        let Entry::Occupied(entry) = self.rooms.entry(poll.clone()) else {
            return false;
        };
        let removed = entry.get().room.remove_watcher(socket);
        if removed.was_watching {
            self.watchers.fetch_sub(1, Relaxed);
        }
        if !removed.empty {
            return false;
        }
        let gone = entry.remove();
        gone.stop.notify_one();
        drop(gone.flusher); // it ends at once on `stop`; nothing to wait for
        true
    }

    /// Folds an event into the room of its poll, if this node has one.
    pub(crate) fn deliver(&self, event: &PollEvent) {
        if let Some(room) = self.room(&event.poll) {
            room.deliver(event);
        }
    }

    /// What this node's fan-out counts.
    pub(crate) fn stats(&self) -> &FanoutStats {
        &self.stats
    }

    /// The room of `poll`, if this node has one.
    pub fn room(&self, poll: &PollId) -> Option<Arc<Room>> {
        self.rooms.get(poll).map(|entry| entry.room.clone())
    }

    /// Every poll with a room here: what the bus must be subscribed to.
    pub(crate) fn polls(&self) -> Vec<PollId> {
        self.rooms.iter().map(|entry| entry.key().clone()).collect()
    }

    /// How many rooms exist.
    pub(crate) fn rooms(&self) -> usize {
        self.rooms.len()
    }

    /// Watchers summed over rooms.
    pub(crate) fn watchers(&self) -> usize {
        self.watchers.load(Relaxed)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        for entry in self.rooms.iter() {
            entry.stop.notify_one();
        }
    }
}
