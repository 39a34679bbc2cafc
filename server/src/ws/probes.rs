//! The pings that tell the fan-out when a client has read a frame ([`crate::fanout`]'s
//! flights): a probed frame is followed by a ping with a number, and the pong that
//! echoes it (clients answer pings in order, after reading what came before) drops the
//! probe of that frame and of every earlier one.

use std::collections::VecDeque;

use axum::body::Bytes;

use crate::fanout::Probe;

/// Probes a socket holds at most; an older one is let go (counts as read) beyond it.
const WAITING_MAX: usize = 8;

/// A socket's probes whose pong has not come back.
#[derive(Default)]
pub(super) struct Probes {
    sent: u64,
    waiting: VecDeque<(u64, Probe)>,
}

impl Probes {
    /// Holds `probe` until its pong: returns the payload of the ping to send.
    pub(super) fn ping(&mut self, probe: Probe) -> Bytes {
        self.sent += 1;
        if self.waiting.len() == WAITING_MAX {
            self.waiting.pop_front();
        }
        self.waiting.push_back((self.sent, probe));
        Bytes::copy_from_slice(&self.sent.to_be_bytes())
    }

    /// A pong came: the probes up to the ping it echoes are read. Another payload (the
    /// keep-alive pings' empty one) says nothing.
    pub(super) fn pong(&mut self, payload: &[u8]) {
        let Ok(number) = <[u8; 8]>::try_from(payload).map(u64::from_be_bytes) else {
            return;
        };
        while self
            .waiting
            .front()
            .is_some_and(|(sent, _)| *sent <= number)
        {
            self.waiting.pop_front();
        }
    }
}
