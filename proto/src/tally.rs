//! The tally of a poll: the whole state, never a delta (docs/architecture.md, invariant 3).

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// The counts of a poll at one version.
///
/// `version` rises by one with every vote that changed the counts, so a client keeps
/// the tally with the highest version it has seen and ignores the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
pub struct Tally {
    /// Rises by one with every committed vote that changed the counts, and with every
    /// pause, resume and reset of the poll.
    pub version: u64,
    /// Votes per option, in the poll's option order; empty when the poll's results
    /// are hidden from the reader (see `ResultsVisibility`).
    pub counts: Vec<u64>,
    /// The number of voters with a vote in this poll: the sum of `counts`, except on a
    /// multiple-choice poll, where a vote counts for each option of its set.
    pub total: u64,
}

impl Tally {
    /// An empty tally at version 0 for a poll with `options` options.
    pub fn empty(options: usize) -> Self {
        Self {
            version: 0,
            counts: vec![0; options],
            total: 0,
        }
    }

    /// The tally as a reader who may not see the counts gets it: the version and the
    /// total, no counts.
    pub fn without_counts(&self) -> Self {
        Self {
            version: self.version,
            counts: Vec::new(),
            total: self.total,
        }
    }

    /// True when `self` should replace `shown`: it is strictly newer.
    pub fn supersedes(&self, shown: &Tally) -> bool {
        self.version > shown.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_higher_version_supersedes() {
        let old = Tally {
            version: 3,
            counts: vec![1, 2],
            total: 3,
        };
        let same = Tally {
            version: 3,
            counts: vec![0, 0],
            total: 0,
        };
        let new = Tally {
            version: 4,
            counts: vec![2, 2],
            total: 4,
        };
        assert!(new.supersedes(&old));
        assert!(!same.supersedes(&old));
        assert!(!old.supersedes(&new));
    }
}
