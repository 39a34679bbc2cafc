//! The checked-in TypeScript must match the Rust types it mirrors.

use std::path::Path;

#[test]
fn checked_in_typescript_matches_the_rust_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(votewire_proto::typescript::TYPESCRIPT_PATH);
    let checked_in = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        checked_in == votewire_proto::typescript::render(),
        "{} is out of date with proto/: run `cargo run -p votewire-proto --example write-typescript`",
        path.display()
    );
}
