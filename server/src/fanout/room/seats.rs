//! Who each watcher is to the poll's results ([`Reader`]): the owner, a voter who
//! voted, anyone. A flush sends the counts only to the watchers who may see them
//! ([`crate::results::sees_counts`]) and a frame without them to the others, so a
//! room makes at most two frames per flush, never one per socket.
//!
//! A watcher's reader is set when it subscribes (the owner's token; a standing vote,
//! looked up for `after_vote` polls) and rises when a vote of its voter is committed
//! on any node: the `votes` event of an `after_vote` poll names its voters.

use std::collections::HashSet;
use std::sync::Arc;

use votewire_proto::PollStatus;

use super::{Room, RoomState, SLICES, SocketId};
use crate::fanout::slot::Outbox;
use crate::results::{Reader, sees_counts};

/// A watcher in a room.
pub(super) struct Seat {
    pub(super) outbox: Arc<Outbox>,
    pub(super) reader: Reader,
}

/// The outboxes of one slice's watchers, split by whether they see the counts.
#[derive(Default)]
pub(super) struct Audiences {
    pub(super) seeing: Vec<Arc<Outbox>>,
    pub(super) not_seeing: Vec<Arc<Outbox>>,
}

impl RoomState {
    /// Lets the watchers whose voter is among `voters` see what voters see.
    pub(super) fn seat_voters(&mut self, voters: &[String]) {
        if voters.is_empty() {
            return;
        }
        let voters: HashSet<&str> = voters.iter().map(String::as_str).collect();
        let seats = self
            .slices
            .iter_mut()
            .flat_map(|slice| slice.watchers.values_mut());
        for seat in seats {
            if seat.reader == Reader::Anyone
                && seat.outbox.voter().is_some_and(|v| voters.contains(v))
            {
                seat.reader = Reader::Voted;
            }
        }
    }

    /// The watchers of `slice`, split by whether they see the counts now.
    pub(super) fn audiences(&self, slice: usize) -> Audiences {
        let status = self.status.unwrap_or(PollStatus::Open);
        let mut split = Audiences::default();
        for seat in self.slices[slice].watchers.values() {
            let audience = if sees_counts(self.results, seat.reader, status) {
                &mut split.seeing
            } else {
                &mut split.not_seeing
            };
            audience.push(seat.outbox.clone());
        }
        split
    }
}

impl Room {
    /// Sets who `socket` is to the poll's results (a voter found to have voted).
    pub(in crate::fanout) fn seat_as(&self, socket: SocketId, reader: Reader) {
        let mut state = self.lock();
        let slice = &mut state.slices[socket as usize % SLICES];
        if let Some(seat) = slice.watchers.get_mut(&socket) {
            seat.reader = reader;
        }
    }
}
