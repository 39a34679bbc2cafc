//! Reading the entries out of `XREADGROUP` and `XAUTOCLAIM` replies. fred's typed
//! readers refuse replies a worker meets every day (`xreadgroup_map` fails with
//! "Cannot convert to map" on a stream with no pending entry for the consumer), so the
//! worker takes the raw reply and reads it here, where each shape has a test.

use std::collections::HashMap;

use fred::types::Value;

/// An entry as read: its id, and its fields unless it was deleted meanwhile (Redis then
/// lists the id with no fields: it is done with, and only needs acknowledging).
pub(super) type Raw = (String, Option<HashMap<String, String>>);

/// The entries of `key` in an `XREADGROUP` reply: `nil` when a blocking read timed
/// out, else `[[key, [[id, [field, value, ...]], ...]], ...]`.
pub(super) fn read_group(reply: Value, key: &str) -> Result<Vec<Raw>, String> {
    let streams = match reply {
        Value::Null => return Ok(Vec::new()),
        Value::Array(streams) => streams,
        other => return Err(format!("XREADGROUP answered {other:?}")),
    };
    for stream in streams {
        let Value::Array(mut pair) = stream else {
            return Err("XREADGROUP: a stream is not [key, entries]".into());
        };
        if pair.len() == 2 && pair[0].as_string().as_deref() == Some(key) {
            return entries(pair.pop().unwrap_or(Value::Null));
        }
    }
    Ok(Vec::new())
}

/// The entries of an `XAUTOCLAIM` reply: `[cursor, entries, deleted ids]` (Redis 7;
/// Redis 6 leaves out the third).
pub(super) fn auto_claim(reply: Value) -> Result<Vec<Raw>, String> {
    match reply {
        Value::Array(mut parts) if parts.len() >= 2 => entries(parts.swap_remove(1)),
        other => Err(format!("XAUTOCLAIM answered {other:?}")),
    }
}

fn entries(list: Value) -> Result<Vec<Raw>, String> {
    let list = match list {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        other => return Err(format!("stream entries: {other:?}")),
    };
    list.into_iter().map(entry).collect()
}

fn entry(value: Value) -> Result<Raw, String> {
    let Value::Array(mut pair) = value else {
        return Err("a stream entry is not [id, fields]".into());
    };
    if pair.len() != 2 {
        return Err("a stream entry is not [id, fields]".into());
    }
    let fields = pair.pop().unwrap_or(Value::Null);
    let id = pair[0]
        .as_string()
        .ok_or("a stream entry's id is not text")?;
    let fields = match fields {
        Value::Null => None,
        Value::Array(flat) => {
            let text: Option<Vec<String>> = flat.iter().map(Value::as_string).collect();
            let text = text.ok_or_else(|| format!("entry {id}: a field is not text"))?;
            let pairs = text
                .chunks_exact(2)
                .map(|kv| (kv[0].clone(), kv[1].clone()));
            Some(pairs.collect())
        }
        other => return Err(format!("entry {id}: fields {other:?}")),
    };
    Ok((id, fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::String(s.into())
    }

    fn array(values: Vec<Value>) -> Value {
        Value::Array(values)
    }

    #[test]
    fn a_read_gives_the_entries_of_its_stream_deleted_ones_without_fields() {
        let reply = array(vec![array(vec![
            text("k"),
            array(vec![
                array(vec![text("1-0"), array(vec![text("poll"), text("p")])]),
                array(vec![text("2-0"), Value::Null]),
            ]),
        ])]);
        let read = read_group(reply, "k").unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].0, "1-0");
        assert_eq!(read[0].1.as_ref().unwrap()["poll"], "p");
        assert_eq!(read[1], ("2-0".to_owned(), None));
    }

    #[test]
    fn a_read_with_nothing_pending_or_timed_out_is_empty() {
        let nothing_pending = array(vec![array(vec![text("k"), array(vec![])])]);
        assert_eq!(read_group(nothing_pending, "k"), Ok(vec![]));
        assert_eq!(read_group(Value::Null, "k"), Ok(vec![]));
    }

    #[test]
    fn a_claim_gives_its_entries_with_or_without_the_deleted_ids() {
        let claimed = array(vec![array(vec![
            text("3-1"),
            array(vec![text("a"), text("1")]),
        ])]);
        let redis7 = array(vec![text("0-0"), claimed.clone(), array(vec![])]);
        let redis6 = array(vec![text("0-0"), claimed]);
        for reply in [redis7, redis6] {
            let read = auto_claim(reply).unwrap();
            assert_eq!(read[0].0, "3-1");
        }
        assert!(auto_claim(text("OK")).is_err());
    }
}
