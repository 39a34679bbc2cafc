//! One vote as an ingest stream entry: the fields a node writes with `XADD` and a
//! worker reads back into a [`Ballot`]. Field values are text, so `redis-cli XRANGE`
//! shows what is waiting; nothing secret is in them (the voter's id, not its token;
//! digests of the address and invite code, as the database stores them).

use std::collections::HashMap;

use votewire_proto::{NodeId, PollId};

use crate::store::{Admission, Ballot, Choice};

/// A vote on its way through the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IngestEntry {
    /// The poll voted in.
    pub(crate) poll: PollId,
    /// The node that validated and recorded it.
    pub(crate) node: NodeId,
    /// The voter's choice, as the store applies it (its `entry` is the stream's).
    pub(crate) ballot: Ballot,
}

impl IngestEntry {
    /// The fields of its `XADD`, in a fixed order; absent values are left out.
    pub(crate) fn fields(&self) -> Vec<(&'static str, String)> {
        let ballot = &self.ballot;
        let mut fields = vec![
            ("poll", self.poll.to_string()),
            ("voter", ballot.voter.clone()),
            ("node", self.node.to_string()),
        ];
        let optional = [
            ("option", ballot.choice.lowest().map(|o| o.to_string())),
            ("options", set_of(ballot.choice)),
            ("seq", ballot.seq.map(|s| s.to_string())),
            ("address", ballot.admission.address.clone()),
            ("invite", ballot.admission.invite.clone()),
        ];
        fields.extend(
            optional
                .into_iter()
                .filter_map(|(name, value)| Some((name, value?))),
        );
        fields
    }

    /// Reads an entry back from its stream id and fields. An entry that does not parse
    /// was not written by a votewire node; the error says which field is wrong.
    pub(crate) fn parse(id: &str, mut fields: HashMap<String, String>) -> Result<Self, String> {
        let entry = position(id).ok_or_else(|| format!("stream id {id:?} is not <ms>-<n>"))?;
        let mut take = |name: &str| fields.remove(name);
        let required = |value: Option<String>, name: &str| {
            value.ok_or_else(|| format!("entry {id} has no {name}"))
        };
        let poll = PollId::parse(required(take("poll"), "poll")?)
            .map_err(|e| format!("entry {id}: poll: {e}"))?;
        let node = NodeId::parse(required(take("node"), "node")?)
            .map_err(|e| format!("entry {id}: node: {e}"))?;
        let voter = required(take("voter"), "voter")?;
        let number = |value: Option<String>, name: &str| {
            value
                .map(|v| v.parse::<u64>())
                .transpose()
                .map_err(|e| format!("entry {id}: {name}: {e}"))
        };
        let option = number(take("option"), "option")?
            .map(u32::try_from)
            .transpose()
            .map_err(|e| format!("entry {id}: option: {e}"))?;
        let choice = match take("options") {
            Some(set) => {
                let options: Vec<u32> = set
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("entry {id}: options: {e}"))?;
                Choice::of(&options).ok_or_else(|| format!("entry {id}: options: not a set"))?
            }
            None => option.map_or(Choice::None, Choice::One),
        };
        let seq = number(take("seq"), "seq")?;
        let admission = Admission {
            address: take("address"),
            invite: take("invite"),
        };
        let ballot = Ballot {
            voter,
            choice,
            seq,
            entry: Some(entry),
            admission,
        };
        Ok(Self { poll, node, ballot })
    }
}

/// The `options` field of a ballot that chose several: `"0,2"`; none otherwise, so a
/// single choice's entry is as it always was.
fn set_of(choice: Choice) -> Option<String> {
    let options = choice.options();
    (options.len() > 1).then(|| {
        let texts: Vec<String> = options.iter().map(u32::to_string).collect();
        texts.join(",")
    })
}

/// A stream id `ms-n` as one number that orders as the ids do: `ms * 2^20 + n`. A
/// millisecond holds far fewer than 2^20 entries of one stream, and `ms` fits in 43
/// bits until the year 2248.
pub(crate) fn position(id: &str) -> Option<u64> {
    let (ms, n) = id.split_once('-')?;
    let (ms, n) = (ms.parse::<u64>().ok()?, n.parse::<u64>().ok()?);
    (ms < 1 << 43 && n < 1 << 20).then_some((ms << 20) | n)
}

/// When the entry at `position` was recorded, in milliseconds since the epoch.
pub(crate) fn recorded_ms(position: u64) -> u64 {
    position >> 20
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(option: Option<u32>, seq: Option<u64>, invite: Option<&str>) -> IngestEntry {
        IngestEntry {
            poll: PollId::parse("p1").unwrap(),
            node: NodeId::parse("node-1").unwrap(),
            ballot: Ballot {
                voter: "v".into(),
                choice: option.map_or(Choice::None, Choice::One),
                seq,
                entry: Some(position("1700000000000-3").unwrap()),
                admission: Admission {
                    address: Some("ab".into()),
                    invite: invite.map(str::to_owned),
                },
            },
        }
    }

    fn read_back(e: &IngestEntry) -> Result<IngestEntry, String> {
        let fields = e
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        IngestEntry::parse("1700000000000-3", fields)
    }

    #[test]
    fn an_entry_reads_back_as_it_was_written() {
        for e in [
            entry(Some(2), Some(17), Some("cd")),
            entry(None, None, None),
            entry(Some(0), None, None),
        ] {
            assert_eq!(read_back(&e), Ok(e));
        }
    }

    #[test]
    fn a_set_of_options_reads_back_as_a_set() {
        let mut set = entry(None, Some(3), None);
        set.ballot.choice = Choice::Set(0b101);
        let fields = set.fields();
        assert!(fields.contains(&("options", "0,2".to_owned())));
        assert!(fields.contains(&("option", "0".to_owned())));
        let read = IngestEntry::parse(
            "1700000000000-3",
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        )
        .unwrap();
        assert_eq!(read.ballot.choice, Choice::Set(0b101));
    }

    #[test]
    fn positions_order_as_stream_ids_do() {
        let ids = ["0-1", "1-0", "1-1048575", "2-0", "1700000000000-0"];
        let positions: Vec<u64> = ids.iter().map(|id| position(id).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        assert_eq!(
            recorded_ms(position("1700000000000-7").unwrap()),
            1700000000000
        );
        for bad in ["", "12", "a-1", "1-a", "1-1048576", "-1"] {
            assert_eq!(position(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_field_that_does_not_parse_is_named() {
        let mut fields: HashMap<String, String> = entry(Some(1), None, None)
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        fields.insert("option".into(), "x".into());
        let error = IngestEntry::parse("1-0", fields.clone()).unwrap_err();
        assert!(error.contains("option"), "{error}");
        fields.remove("voter");
        let error = IngestEntry::parse("1-0", fields).unwrap_err();
        assert!(error.contains("voter"), "{error}");
    }
}
