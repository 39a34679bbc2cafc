//! The `Idempotency-Key` header of poll creation and closing: a client (or nginx, which
//! retries a request whose upstream failed) may send the same request again without
//! making a second poll. The store records which poll a key made (see
//! `store/sql/create.rs`); this module reads the header and fingerprints the request,
//! so the same key with a different request is refused instead of answered with a
//! poll it did not ask for.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use votewire_proto::{CreatePoll, ErrorCode};

use crate::error::Refusal;
use crate::store::IdempotencyKey;

/// The header's name.
pub(super) const HEADER: &str = "idempotency-key";
/// The longest key: a UUID is 36 characters; 255 leaves room for a client's own scheme.
const MAX_KEY_CHARS: usize = 255;

/// The request's `Idempotency-Key`, when it has one (checked: 1 to 255 visible ASCII
/// characters).
pub(super) struct KeyHeader(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for KeyHeader {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Refusal> {
        let Some(value) = parts.headers.get(HEADER) else {
            return Ok(KeyHeader(None));
        };
        let key = value.as_bytes();
        if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.iter().all(u8::is_ascii_graphic) {
            return Err(Refusal::new(
                ErrorCode::InvalidIdempotencyKey,
                format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters, \
                     e.g. a UUID"
                ),
            ));
        }
        Ok(KeyHeader(Some(String::from_utf8_lossy(key).into_owned())))
    }
}

/// The key as the store records it for a creation of `body` at `now`.
pub(super) fn for_creation(
    key: String,
    body: &CreatePoll,
    now: DateTime<Utc>,
    retention: std::time::Duration,
) -> IdempotencyKey {
    let canonical = serde_json::to_vec(body).expect("a request body serializes");
    let digest = Sha256::digest(&canonical);
    let request_hash = digest.iter().map(|b| format!("{b:02x}")).collect();
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    IdempotencyKey {
        key,
        request_hash,
        forget_before: now.checked_sub_signed(retention).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(question: &str) -> CreatePoll {
        serde_json::from_value(serde_json::json!({ "question": question, "options": ["a", "b"] }))
            .unwrap()
    }

    #[test]
    fn the_same_request_has_the_same_hash_and_another_request_another() {
        let now = Utc::now();
        let day = std::time::Duration::from_secs(86_400);
        let first = for_creation("k".into(), &body("Tea?"), now, day);
        assert_eq!(first, for_creation("k".into(), &body("Tea?"), now, day));
        assert_ne!(
            first.request_hash,
            for_creation("k".into(), &body("Coffee?"), now, day).request_hash
        );
        assert_eq!(first.request_hash.len(), 64);
        assert_eq!(first.forget_before, now - chrono::Duration::days(1));
    }
}
