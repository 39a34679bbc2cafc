//! The switch for tests that need servers outside the process (the machine's
//! PostgreSQL and MariaDB, a `redis-server`, a whole local cluster).
//!
//! They run by default; `VOTEWIRE_TEST_EXTERNAL=0` skips them, for builds without those
//! servers (the Dockerfile's test stage).

/// True unless the tests were told to skip what needs outside servers; says so on
/// stderr, naming `what`, when they were.
pub fn external_enabled(what: &str) -> bool {
    let enabled = std::env::var("VOTEWIRE_TEST_EXTERNAL").map_or(true, |v| v != "0");
    if !enabled {
        eprintln!("skipping {what}: VOTEWIRE_TEST_EXTERNAL=0");
    }
    enabled
}
