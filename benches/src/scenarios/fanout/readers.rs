//! The fan-out readers: one task per socket, noting each newer version it shows and
//! when it arrived, on a thread and a single-threaded tokio runtime of their own.
//!
//! Why a thread of their own: every frame wakes a reader, and on loadgen's multi-threaded
//! runtime a burst of frames also wakes the other worker (futexes, work stealing, tasks
//! handed between threads), and the voters' POSTs wait behind the frames. On one
//! thread a burst is an `epoll_wait` and one read per socket. Measured with 2,000
//! sockets and ~24,000 frames/s: a third fewer `epoll_wait`s and context switches,
//! about 10 % less loadgen CPU per frame than the same readers on the shared runtime.
//!
//! Why a task per socket rather than a few tasks each polling many sockets: a wake on
//! this runtime is a push onto a local queue (~0.3 µs of the ~8 µs a frame costs, most
//! of the rest being the kernel's `recvfrom` and `epoll_wait`), so there is little left
//! for a hand-written poll loop to save.

use std::time::Instant;

use tokio::sync::oneshot;
use tokio::task::JoinSet;

use super::super::SETTLE;
use crate::client::{Failure, Frame};
use crate::ws_reader::WsReader;

/// What one socket showed.
#[derive(Default)]
pub(super) struct Seen {
    /// Each newer version, and when it arrived in µs since `base`.
    pub(super) frames: Vec<(u32, u32)>,
    /// How many `error` (or binary) frames came: the readers send nothing, so any is a
    /// surprise.
    pub(super) errors: u64,
    /// Why the socket stopped before showing the final tally, if it did.
    pub(super) lost: Option<Failure>,
}

/// Records every newer version a socket shows until it shows the final version (once
/// known) or the settle deadline passes.
///
/// Why two loops and a oneshot (rather than one `select!` on a watch channel and a fresh
/// sleep): the reader is woken for every frame, and while the load runs nothing else
/// happens. A oneshot is polled with a few atomics, where a watch receiver locks its
/// notifier's waiter list and a new sleep registers a timer on every turn.
async fn record_frames(
    mut socket: WsReader,
    base: Instant,
    mut final_version: oneshot::Receiver<u64>,
) -> Seen {
    let mut seen = Seen::default();
    let last = loop {
        tokio::select! {
            biased;
            frame = socket.next_frame() => {
                if !seen.take(frame, socket.arrived(), base) {
                    return seen;
                }
            }
            last = &mut final_version => match last {
                Ok(last) => break last,
                // The scenario ended without a final version: nothing more to wait for.
                Err(_) => return seen,
            },
        }
    };
    let mut settled = std::pin::pin!(tokio::time::sleep(SETTLE));
    while seen.shown() < last {
        tokio::select! {
            biased;
            frame = socket.next_frame() => {
                if !seen.take(frame, socket.arrived(), base) {
                    break;
                }
            }
            _ = &mut settled => break,
        }
    }
    seen
}

impl Seen {
    /// The newest version shown so far.
    fn shown(&self) -> u64 {
        self.frames.last().map_or(0, |f| u64::from(f.0))
    }

    /// Notes a frame that arrived at `arrived`; false once the socket is lost.
    fn take(&mut self, frame: Result<Frame, Failure>, arrived: Instant, base: Instant) -> bool {
        match frame {
            Ok(Frame::Tally(version)) if version > self.shown() => {
                let version = u32::try_from(version).unwrap_or(u32::MAX);
                let at = arrived.saturating_duration_since(base).as_micros();
                self.frames
                    .push((version, u32::try_from(at).unwrap_or(u32::MAX)));
            }
            Ok(Frame::Error(why)) => {
                self.errors += 1;
                if self.errors == 1 {
                    eprintln!("loadgen: a socket got an error frame: {why}");
                }
            }
            Ok(_) => {}
            Err(why) => {
                self.lost = Some(why);
                return false;
            }
        }
        true
    }
}

/// The running readers.
pub(super) struct Readers {
    finals: Vec<oneshot::Sender<u64>>,
    done: oneshot::Receiver<Vec<Seen>>,
}

impl Readers {
    /// Starts a reader on each socket, timing frames from `base`, and returns once
    /// every one is reading.
    pub(super) async fn start(sockets: Vec<WsReader>, base: Instant) -> Result<Self, Failure> {
        let (mut finals, mut final_rxs) = (Vec::new(), Vec::new());
        for _ in 0..sockets.len() {
            let (tx, rx) = oneshot::channel();
            finals.push(tx);
            final_rxs.push(rx);
        }
        let (done_tx, done) = oneshot::channel();
        let sockets = (sockets.into_iter().map(WsReader::detach)).collect::<Result<Vec<_>, _>>()?;
        let (ready_tx, ready) = oneshot::channel();
        std::thread::Builder::new()
            .name("fanout-readers".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime builds");
                runtime.block_on(async move {
                    let sockets = sockets.into_iter().map(|s| s.attach());
                    let sockets = match sockets.collect::<Result<Vec<_>, _>>() {
                        Ok(sockets) => sockets,
                        Err(why) => return drop(ready_tx.send(Err(why))),
                    };
                    let reading = read_all(sockets, final_rxs, base);
                    let _ = ready_tx.send(Ok(()));
                    let _ = done_tx.send(reading.await);
                });
            })
            .map_err(|e| format!("starting the reader thread: {e}"))?;
        ready
            .await
            .map_err(|_| "the reader thread failed to start")??;
        Ok(Self { finals, done })
    }

    /// Tells every reader the final version and waits for all of them to show it (or
    /// to give up after `SETTLE`).
    pub(super) async fn finish(self, final_version: u64) -> Result<Vec<Seen>, Failure> {
        for tx in self.finals {
            // A reader that already ended (its socket lost) has dropped its receiver.
            let _ = tx.send(final_version);
        }
        self.done.await.map_err(|_| "a reader panicked".into())
    }
}

async fn read_all(
    sockets: Vec<WsReader>,
    finals: Vec<oneshot::Receiver<u64>>,
    base: Instant,
) -> Vec<Seen> {
    let mut readers = JoinSet::new();
    for (socket, final_version) in sockets.into_iter().zip(finals) {
        readers.spawn(record_frames(socket, base, final_version));
    }
    let mut seen = Vec::with_capacity(readers.len());
    while let Some(socket) = readers.join_next().await {
        seen.push(socket.expect("a reader task does not panic"));
    }
    seen
}
