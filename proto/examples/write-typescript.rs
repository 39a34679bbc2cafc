//! Writes the TypeScript mirror of the contract into `web/src/proto/index.ts`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join(votewire_proto::typescript::TYPESCRIPT_PATH);
    std::fs::create_dir_all(path.parent().expect("the path has a folder"))?;
    std::fs::write(&path, votewire_proto::typescript::render())?;
    println!("wrote {}", path.display());
    Ok(())
}
