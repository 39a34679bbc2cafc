//! A cluster's logs, as `cluster.sh logs` shows them and as the secret check reads them.

use crate::cluster::{Cluster, SECRETS};

impl Cluster {
    /// The last lines of the logs of the parts whose names start with `part`.
    pub fn logs(&self, part: &str, lines: u32) -> String {
        let output = self
            .command(&["logs", part])
            .env("LINES_SHOWN", lines.to_string())
            .output();
        match output {
            Ok(o) => format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => format!("cannot run cluster.sh logs: {e}"),
        }
    }

    /// Every line of every part's log (`logs/*.log`) that holds one of [`SECRETS`],
    /// named by its file.
    pub fn secrets_in_logs(&self) -> Vec<String> {
        let logs = std::fs::read_dir(self.dir().join("logs")).expect("cluster.sh keeps logs");
        let mut leaks = Vec::new();
        for log in logs {
            let path = log.expect("a readable folder").path();
            let text = std::fs::read(&path).expect("a readable log");
            let file = path.file_name().unwrap_or_default().to_string_lossy();
            for line in String::from_utf8_lossy(&text).lines() {
                if SECRETS.iter().any(|secret| line.contains(secret)) {
                    leaks.push(format!("{file}: {line}"));
                }
            }
        }
        leaks
    }
}
