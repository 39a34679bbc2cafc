//! CPU time and resident memory of the server processes, from /proc (Linux).

use std::time::Duration;

/// What /proc says about one process at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSample {
    /// User + system CPU time used so far.
    pub cpu: Duration,
    /// Resident memory, in bytes.
    pub rss: u64,
}

/// Reads `pid`'s CPU time and RSS; `None` when it is gone or /proc is not there.
pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(ProcSample {
        cpu: Duration::from_millis(ticks * 10),
        rss: rss_kb * 1024,
    })
}

/// Samples every pid; missing processes count as zero.
pub fn sample_all(pids: &[u32]) -> Vec<ProcSample> {
    pids.iter()
        .map(|pid| sample(*pid).unwrap_or_default())
        .collect()
}
