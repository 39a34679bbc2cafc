//! Who sees a poll's counts: one rule ([`sees_counts`]) for every path that shows a
//! tally, so REST reads, vote answers, WebSocket snapshots, updates and closes, the
//! audit and the presenter's page cannot disagree. Everyone sees the total; a reader
//! who may not see the counts gets [`Tally::without_counts`] and no `recent` votes.

use votewire_proto::{PollStatus, ResultsVisibility, Tally};

/// Who reads a poll's tally, as far as its results are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Reader {
    /// The poll's owner (its token): sees the counts whatever the visibility.
    Owner,
    /// A voter with a vote in the poll (a standing one when they subscribed, or one
    /// committed since on any node).
    Voted,
    /// Anyone else.
    #[default]
    Anyone,
}

/// True when `reader` may see the counts of a poll whose results show `results`.
pub(crate) fn sees_counts(results: ResultsVisibility, reader: Reader, status: PollStatus) -> bool {
    let closed = status == PollStatus::Closed;
    match (results, reader) {
        (_, Reader::Owner) | (ResultsVisibility::Live, _) => true,
        (ResultsVisibility::AfterVote, Reader::Voted) => true,
        (ResultsVisibility::AfterVote | ResultsVisibility::AfterClose, _) => closed,
        (ResultsVisibility::Hidden, _) => false,
    }
}

/// `tally` as `reader` may see it.
pub(crate) fn shown(
    tally: Tally,
    results: ResultsVisibility,
    reader: Reader,
    status: PollStatus,
) -> Tally {
    if sees_counts(results, reader, status) {
        tally
    } else {
        tally.without_counts()
    }
}

/// True when telling `reader` apart from anyone needs to know whether they voted:
/// only `after_vote` results on a poll still open ask.
pub(crate) fn asks_whether_voted(results: ResultsVisibility, status: PollStatus) -> bool {
    results == ResultsVisibility::AfterVote && status != PollStatus::Closed
}

#[cfg(test)]
mod tests {
    use super::*;
    use PollStatus::{Closed, Open, Paused};
    use Reader::{Anyone, Owner, Voted};
    use ResultsVisibility::{AfterClose, AfterVote, Hidden, Live};

    #[test]
    fn each_visibility_shows_the_counts_to_whom_it_says() {
        // (results, status) -> what Owner, Voted, Anyone see.
        let table = [
            (Live, Open, [true, true, true]),
            (Live, Closed, [true, true, true]),
            (AfterVote, Open, [true, true, false]),
            (AfterVote, Paused, [true, true, false]),
            (AfterVote, Closed, [true, true, true]),
            (AfterClose, Open, [true, false, false]),
            (AfterClose, Closed, [true, true, true]),
            (Hidden, Open, [true, false, false]),
            (Hidden, Closed, [true, false, false]),
        ];
        for (results, status, expected) in table {
            let seen = [Owner, Voted, Anyone].map(|r| sees_counts(results, r, status));
            assert_eq!(seen, expected, "{results:?} {status:?}");
        }
    }

    #[test]
    fn a_hidden_tally_keeps_its_version_and_total_only() {
        let tally = Tally {
            version: 7,
            counts: vec![3, 4],
            total: 7,
        };
        let hidden = shown(tally.clone(), Hidden, Voted, Closed);
        assert_eq!((hidden.version, hidden.total), (7, 7));
        assert!(hidden.counts.is_empty());
        assert_eq!(shown(tally.clone(), Hidden, Owner, Open), tally);
    }

    #[test]
    fn only_an_open_after_vote_poll_asks_whether_the_reader_voted() {
        assert!(asks_whether_voted(AfterVote, Open));
        assert!(asks_whether_voted(AfterVote, Paused));
        assert!(!asks_whether_voted(AfterVote, Closed));
        for results in [Live, AfterClose, Hidden] {
            assert!(!asks_whether_voted(results, Open));
        }
    }
}
