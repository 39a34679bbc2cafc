//! Signed tokens: voters and poll owners are identified by HMAC-SHA256 signatures made
//! with one key per deployment, so any node can check a token without a database read.
//!
//! A voter token is `<voter id>.<signature>`; an owner token is the signature of the
//! poll id. A key file (rather than a key in a flag) keeps the secret out of `ps`.

use std::io;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use votewire_proto::PollId;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of randomness in a voter id (hex-encoded in the token).
const VOTER_ID_BYTES: usize = 16;
/// Bytes of the signature kept in a voter token: 128 bits is plenty against forgery
/// and keeps cookies short.
const VOTER_SIG_BYTES: usize = 16;
/// Bytes of a generated signing key.
const KEY_BYTES: usize = 32;

/// The deployment's signing key.
#[derive(Clone)]
pub(crate) struct TokenKeys {
    key: Vec<u8>,
}

/// A voter, proven by a valid token: the id is what the database keys votes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Voter {
    /// The voter's id, 32 hex characters.
    pub id: String,
    /// The token that proves it.
    pub token: String,
}

impl TokenKeys {
    /// Uses `key` as the signing key.
    pub(crate) fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    /// Reads the key file, or creates it (mode 0600) with a random key when it is missing.
    pub(crate) fn load_or_create(path: &Path) -> io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key = text.trim().as_bytes().to_vec();
                if key.len() < 16 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{}: a signing key needs at least 16 characters",
                            path.display()
                        ),
                    ));
                }
                Ok(Self::new(key))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let text = hex(&random_bytes(KEY_BYTES));
                write_private(path, &text)?;
                tracing::info!(path = %path.display(), "generated a new signing key");
                Ok(Self::new(text.into_bytes()))
            }
            Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
    }

    fn mac(&self, purpose: &str, subject: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        mac
    }

    /// A new voter with a fresh random id.
    pub(crate) fn issue_voter(&self) -> Voter {
        let id = hex(&random_bytes(VOTER_ID_BYTES));
        let sig = self.mac("voter", &id).finalize().into_bytes();
        let token = format!("{id}.{}", hex(&sig[..VOTER_SIG_BYTES]));
        Voter { id, token }
    }

    /// The voter a token proves, or `None` when it is malformed or forged.
    pub(crate) fn verify_voter(&self, token: &str) -> Option<Voter> {
        let (id, sig) = token.split_once('.')?;
        if id.len() != VOTER_ID_BYTES * 2 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let sig = unhex(sig).filter(|sig| sig.len() == VOTER_SIG_BYTES)?;
        self.mac("voter", id).verify_truncated_left(&sig).ok()?;
        Some(Voter {
            id: id.to_owned(),
            token: token.to_owned(),
        })
    }

    /// A digest of a client address that a per-address poll keeps instead of the
    /// address: keyed, so a database dump does not reveal who voted from where.
    pub(crate) fn address_digest(&self, address: &std::net::IpAddr) -> String {
        hex(&self
            .mac("address", &address.to_string())
            .finalize()
            .into_bytes())
    }

    /// What a poll's export shows for a voter: keyed with the poll, so it neither
    /// reveals the voter's id nor links the voter's votes across polls.
    pub(crate) fn voter_pseudonym(&self, poll: &PollId, voter: &str) -> String {
        let digest = self
            .mac("pseudonym", &format!("{poll}/{voter}"))
            .finalize()
            .into_bytes();
        hex(&digest[..8])
    }

    /// The token that closes `poll`.
    pub(crate) fn owner_token(&self, poll: &PollId) -> String {
        hex(&self.mac("owner", poll.as_str()).finalize().into_bytes())
    }

    /// True when `token` is the owner token of `poll` (compared in constant time).
    pub(crate) fn verify_owner(&self, poll: &PollId, token: &str) -> bool {
        unhex(token).is_some_and(|sig| self.mac("owner", poll.as_str()).verify_slice(&sig).is_ok())
    }
}

/// Letters and digits that cannot be taken for one another (no 0/o, 1/l/i).
const INVITE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Characters of an invite code: 31^10, about 49 bits, typed in a few seconds.
const INVITE_CHARS: usize = 10;

/// A new random invite code.
pub(crate) fn new_invite_code() -> String {
    random_bytes(INVITE_CHARS)
        .iter()
        .map(|b| INVITE_ALPHABET[*b as usize % INVITE_ALPHABET.len()] as char)
        .collect()
}

/// The digest a store keeps of an invite code (it never keeps the code): the codes are
/// random, so a plain hash cannot be reversed by guessing.
pub(crate) fn invite_digest(code: &str) -> String {
    hex(&Sha256::digest(code.trim().to_ascii_lowercase().as_bytes()))
}

/// Characters of a join code: 31^6, about 887 million, read out and typed by people.
const JOIN_CODE_CHARS: usize = 6;

/// A new random join code, upper case (a poll's code is unique: the store refuses a
/// taken one, and the creation draws another).
pub(crate) fn new_join_code() -> String {
    random_bytes(JOIN_CODE_CHARS)
        .iter()
        .map(|b| INVITE_ALPHABET[*b as usize % INVITE_ALPHABET.len()].to_ascii_uppercase() as char)
        .collect()
}

/// A join code as people type it (any case, with spaces or dashes) in the form it is
/// stored; `None` when it cannot be one.
pub(crate) fn parse_join_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let valid = code.len() == JOIN_CODE_CHARS && code.bytes().all(|b| INVITE_ALPHABET.contains(&b));
    valid.then(|| code.to_ascii_uppercase())
}

/// A new random poll id: 12 characters of [0-9a-z], about 62 bits.
pub(crate) fn new_poll_id() -> PollId {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let id: String = random_bytes(12)
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    PollId::parse(id).expect("the alphabet is URL-safe")
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source is available");
    buf
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    #[test]
    fn join_codes_are_six_unambiguous_characters_read_in_any_case_and_spacing() {
        let code = new_join_code();
        assert_eq!(parse_join_code(&code), Some(code.clone()));
        assert_eq!(parse_join_code(&code.to_lowercase()), Some(code.clone()));
        assert_eq!(parse_join_code(" k7p-2qx "), Some("K7P2QX".to_owned()));
        assert_eq!(parse_join_code("K7P 2QX"), Some("K7P2QX".to_owned()));
        for wrong in [
            "K7P2Q", "K7P2QXX", "K7P2Q0", "KIP2QX", "K7L2QX", "K7P2QO", "", "K7P2Q!",
        ] {
            assert_eq!(parse_join_code(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn an_issued_voter_token_verifies_to_the_same_voter() {
        let voter = keys().issue_voter();
        assert_eq!(keys().verify_voter(&voter.token), Some(voter));
    }

    #[test]
    fn forged_or_malformed_voter_tokens_are_refused() {
        let voter = keys().issue_voter();
        let other = TokenKeys::new(b"another key, another deployment".to_vec());
        assert_eq!(other.verify_voter(&voter.token), None);
        let (id, sig) = voter.token.split_once('.').unwrap();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        assert_eq!(
            keys().verify_voter(&format!("{id}.{flipped}{}", &sig[1..])),
            None
        );
        assert_eq!(keys().verify_voter(&format!("{id}.{}", &sig[..8])), None);
        assert_eq!(keys().verify_voter("not-a-token"), None);
        assert_eq!(keys().verify_voter(""), None);
    }

    #[test]
    fn owner_tokens_belong_to_one_poll() {
        let a = PollId::parse("a").unwrap();
        let b = PollId::parse("b").unwrap();
        let token = keys().owner_token(&a);
        assert!(keys().verify_owner(&a, &token));
        assert!(!keys().verify_owner(&b, &token));
        assert!(!keys().verify_owner(&a, "zz"));
    }

    #[test]
    fn a_generated_key_file_is_reused() {
        let dir = std::env::temp_dir().join(format!("votewire-key-{}", std::process::id()));
        let path = dir.join("signing.key");
        let _ = std::fs::remove_dir_all(&dir);
        let first = TokenKeys::load_or_create(&path).unwrap();
        let second = TokenKeys::load_or_create(&path).unwrap();
        let voter = first.issue_voter();
        assert_eq!(second.verify_voter(&voter.token), Some(voter));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
