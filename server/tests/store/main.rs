//! The `Store` conformance suite: the same stories against SQLite, PostgreSQL and
//! MySQL/MariaDB, each on a fresh database.
//!
//! PostgreSQL and MariaDB are the machine's own servers (127.0.0.1:5432 and :3306), or
//! `VOTEWIRE_TEST_POSTGRES_URL` / `VOTEWIRE_TEST_MYSQL_URL` (a URL to an admin database
//! in which the suite may create and drop databases). `VOTEWIRE_TEST_EXTERNAL=0` skips
//! them, for builds without those servers (the Dockerfile's test stage).

#![allow(
    unreachable_pub,
    reason = "a test binary exports nothing: `pub` only shares items between its modules"
)]

mod replicas;
mod stories;
