//! votewire's load generator, `loadgen`, and (in `benches/`) the criterion benchmarks.
//!
//! `loadgen` drives a running votewire, one node or a cluster through nginx, over its
//! public contract only (REST and WebSocket), on loopback, bounded in time and count:
//!
//! - [`scenarios::fanout`]: C sockets watch one poll while unique voters vote at an
//!   open-loop rate R; vote-to-render latency per socket and vote.
//! - [`scenarios::write`]: K voters in a closed loop, no sockets: votes per second.
//! - [`scenarios::ingest`]: the `write` load with one socket watching, for either ingest
//!   mode: votes acknowledged and committed per second, acknowledgement to socket.
//! - [`scenarios::replication`]: the `write` load while the read replicas are polled
//!   directly: how long after its acknowledgement a vote shows on each replica.
//! - [`scenarios::idle`]: C sockets held open: connect time and memory per socket.
//!
//! [`report`] turns samples into percentiles, a table for people and a JSON line for
//! machines; [`plot`] draws them as SVG for `--plot`; [`procs`] reads the CPU and memory
//! of the server processes from /proc; [`loopback`] refuses any URL not on this machine;
//! [`ws_reader`] is the lean WebSocket client the fan-out readers use.

pub mod client;
pub mod loopback;
pub mod plot;
pub mod procs;
pub mod report;
pub mod scenarios;
pub mod ws_reader;
