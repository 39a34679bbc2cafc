//! URLs that hold passwords, read from files: Kubernetes and compose mount secrets as
//! files, and a file keeps a password out of the environment a crash report or `ps e`
//! may show. Each URL flag has a `-file` twin (`--database-file`, also
//! `VOTEWIRE_DATABASE_URL_FILE`); giving both is refused, since which one wins would be
//! a guess. A file's content is never shown, only its path.

use std::path::{Path, PathBuf};

use clap::Args;

#[derive(Debug, Clone, Args)]
pub(super) struct UrlFiles {
    /// File holding the database URL (`--database`), as a mounted secret.
    #[arg(long, env = "VOTEWIRE_DATABASE_URL_FILE", global = true)]
    pub(super) database_file: Option<PathBuf>,

    /// File holding the read replicas' URLs (`--replica`), one per line or
    /// comma-separated.
    #[arg(long, env = "VOTEWIRE_REPLICA_URLS_FILE", global = true)]
    pub(super) replica_file: Option<PathBuf>,

    /// File holding the Redis URL (`--redis`).
    #[arg(long, env = "VOTEWIRE_REDIS_URL_FILE", global = true)]
    pub(super) redis_file: Option<PathBuf>,
}

/// The value of `--<flag>`, given directly or in its file, if either was given.
pub(super) fn one(
    flag: &str,
    direct: Option<String>,
    file: Option<&Path>,
) -> Result<Option<String>, String> {
    match (direct, file) {
        (Some(_), Some(_)) => Err(both(flag)),
        (Some(value), None) => Ok(Some(value)),
        (None, Some(path)) => read(flag, path).map(Some),
        (None, None) => Ok(None),
    }
}

/// The values of the repeatable `--<flag>`, given directly or in its file.
pub(super) fn many(
    flag: &str,
    direct: Vec<String>,
    file: Option<&Path>,
) -> Result<Vec<String>, String> {
    match file {
        None => Ok(direct),
        Some(_) if !direct.is_empty() => Err(both(flag)),
        Some(path) => Ok(read(flag, path)?
            .split([',', '\n'])
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(str::to_owned)
            .collect()),
    }
}

fn both(flag: &str) -> String {
    format!("give --{flag} or --{flag}-file, not both")
}

/// A file's content without the line end editors and `echo` leave; refused when empty.
fn read(flag: &str, path: &Path) -> Result<String, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--{flag}-file {shown}: cannot read it: {e}"))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("--{flag}-file {shown} is empty"));
    }
    Ok(text.to_owned())
}
