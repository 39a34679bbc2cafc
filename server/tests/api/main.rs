//! The node's integration tests: one binary, real servers on free ports, real
//! WebSocket and HTTP clients, SQLite on disk.

#![allow(
    unreachable_pub,
    reason = "a test binary exports nothing: `pub` only shares items between its modules"
)]

mod concurrency;
mod credentials;
mod errors;
mod headers;
mod lifecycle;
mod openapi;
mod polls;
mod replicas;
mod secrets;
mod slow_reader;
mod websocket;
