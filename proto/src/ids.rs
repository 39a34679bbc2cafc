//! Identifiers, parsed once where they enter ("parse, don't validate").

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;
use utoipa::ToSchema;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// What kind of identifier was expected ("poll id", "node id").
    pub what: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a {} is 1 to {} characters of A-Z, a-z, 0-9, '-' or '_'",
            self.what, MAX_ID_LEN
        )
    }
}

impl std::error::Error for IdError {}

/// The longest identifier accepted. Ids go into URLs, Redis channel names and SQL keys.
pub const MAX_ID_LEN: usize = 64;

fn check(s: &str, what: &'static str) -> Result<(), IdError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(IdError { what }) }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, TS, ToSchema)]
        #[ts(type = "string")]
        #[schema(value_type = String, pattern = "^[A-Za-z0-9_-]{1,64}$")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier, refusing anything outside `[A-Za-z0-9_-]{1,64}`.
            pub fn parse(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check(&s, $what)?;
                Ok(Self(s))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        // By hand rather than `#[serde(try_from, into)]`, which ts-rs cannot read.
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Self::parse(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

string_id!(
    /// A poll's identifier: random, URL-safe, unguessable enough to share as a link.
    PollId,
    "poll id"
);

string_id!(
    /// A node's identifier, as given by `--node-id` (or the host name).
    NodeId,
    "node id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_url_safe_ids() {
        assert_eq!(PollId::parse("aZ09-_").unwrap().as_str(), "aZ09-_");
    }

    #[test]
    fn refuses_empty_long_or_odd_ids() {
        assert!(PollId::parse("").is_err());
        assert!(PollId::parse("x".repeat(MAX_ID_LEN + 1)).is_err());
        assert!(PollId::parse("a/b").is_err());
        assert!(NodeId::parse("node 1").is_err());
    }

    #[test]
    fn refuses_bad_ids_when_deserialized() {
        assert!(serde_json::from_str::<PollId>("\"../etc\"").is_err());
        assert!(serde_json::from_str::<PollId>("\"abc\"").is_ok());
    }
}
