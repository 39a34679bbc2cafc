//! Rebuilds the server when a migration changes: `sqlx::migrate!` embeds the
//! migration files at compile time, but cargo does not know it reads them.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
