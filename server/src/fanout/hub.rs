//! The hub: this node's rooms, one per poll that at least one local socket watches.
//!
//! A room is created by its first watcher and removed, with its flusher task, by its
//! last. Join and leave run under the map's entry lock, so a room is never removed
//! while a watcher is being added to it.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use votewire_proto::{PollEvent, PollId};

use super::pace::Pacer;
use super::room::{Room, SocketId};
use super::slot::Outbox;
use crate::metrics::Metrics;

struct RoomEntry {
    room: Arc<Room>,
    stop: Arc<Notify>,
    flusher: JoinHandle<()>,
}

/// Every room of this node.
pub struct Hub {
    rooms: DashMap<PollId, RoomEntry>,
    pacer: Arc<Pacer>,
    metrics: Arc<Metrics>,
}

/// What joining a room found.
pub struct Joined {
    /// The room joined.
    pub room: Arc<Room>,
    /// True when this watcher created the room: it must subscribe on the bus.
    pub first: bool,
}

impl Hub {
    /// A hub whose rooms flush at most once per tick of `pacer` under load.
    pub fn new(pacer: Arc<Pacer>, metrics: Arc<Metrics>) -> Self {
        Self {
            rooms: DashMap::new(),
            pacer,
            metrics,
        }
    }

    /// Adds a socket's outbox to the room of `poll`, creating the room when needed.
    pub fn join(&self, poll: &PollId, socket: SocketId, outbox: Arc<Outbox>) -> Joined {
        match self.rooms.entry(poll.clone()) {
            Entry::Occupied(entry) => {
                let room = entry.get().room.clone();
                room.add_watcher(socket, outbox);
                Joined { room, first: false }
            }
            Entry::Vacant(entry) => {
                let room = Room::new(poll.clone(), self.metrics.clone(), self.pacer.clone());
                room.add_watcher(socket, outbox);
                let stop = Arc::new(Notify::new());
                let flusher = tokio::spawn(room.clone().run_flusher(stop.clone()));
                entry.insert(RoomEntry {
                    room: room.clone(),
                    stop,
                    flusher,
                });
                self.metrics.rooms.fetch_add(1, Relaxed);
                Joined { room, first: true }
            }
        }
    }

    /// Removes a socket from the room of `poll`; true when that emptied and removed
    /// the room, so the bus subscription can go too.
    pub fn leave(&self, poll: &PollId, socket: SocketId) -> bool {
        let Entry::Occupied(entry) = self.rooms.entry(poll.clone()) else {
            return false;
        };
        if !entry.get().room.remove_watcher(socket) {
            return false;
        }
        let removed = entry.remove();
        removed.stop.notify_one();
        drop(removed.flusher); // it ends at once on `stop`; nothing to wait for
        self.metrics.rooms.fetch_sub(1, Relaxed);
        true
    }

    /// Folds an event into the room of its poll, if this node has one.
    pub fn deliver(&self, event: &PollEvent) {
        let room = self.rooms.get(&event.poll).map(|entry| entry.room.clone());
        if let Some(room) = room {
            room.deliver(event);
        }
    }

    /// The room of `poll`, if this node has one.
    pub fn room(&self, poll: &PollId) -> Option<Arc<Room>> {
        self.rooms.get(poll).map(|entry| entry.room.clone())
    }

    /// Every poll with a room here: what the bus must be subscribed to.
    pub fn polls(&self) -> Vec<PollId> {
        self.rooms.iter().map(|entry| entry.key().clone()).collect()
    }

    /// How many rooms exist.
    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// True when no poll is watched here.
    pub fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        for entry in self.rooms.iter() {
            entry.stop.notify_one();
        }
    }
}
