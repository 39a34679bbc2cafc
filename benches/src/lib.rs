//! votewire's benchmarks live in `benches/`: `cargo bench -p votewire-benches`.
