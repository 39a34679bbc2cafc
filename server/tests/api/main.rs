//! The node's integration tests: one binary, real servers on free ports, real
//! WebSocket and HTTP clients, SQLite on disk.

#![allow(
    unreachable_pub,
    reason = "a test binary exports nothing: `pub` only shares items between its modules"
)]

mod abuse_limits;
mod admin;
mod anti_entropy;
mod choices;
mod concurrency;
mod connections;
mod controls;
mod credentials;
mod deploy_files;
mod errors;
mod export;
mod headers;
mod join;
mod lifecycle;
mod logs;
mod modes;
mod openapi;
mod polls;
mod replicas;
mod results;
mod retries;
mod rfc6455;
mod secrets;
mod seed;
mod slow_reader;
mod starting;
mod static_files;
mod telemetry;
mod tls;
mod websocket;
