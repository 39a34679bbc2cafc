//! Who a request speaks for: the voter (`Authorization: Voter <token>`, else the
//! `votewire_voter` cookie) and a poll's owner (`Authorization: Bearer <token>`).
//!
//! Credentials that are there but unreadable are refused, never taken for "none": a
//! non-text header, a scheme with nothing after it, an empty cookie, or a token sent
//! under the other route's scheme each answer 401 with their own code. Treating them
//! as absent would let a vote with a mangled token through as a new voter's.

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use votewire_proto::{ErrorCode, PollId};

use crate::error::Refusal;
use crate::token::{TokenKeys, Voter};

/// The name of the voter cookie.
pub(crate) const VOTER_COOKIE: &str = "votewire_voter";

/// The `Authorization` header as `(scheme, credentials)`, if there is one.
fn authorization(headers: &HeaderMap) -> Result<Option<(&str, &str)>, Refusal> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        Refusal::new(
            ErrorCode::MalformedAuthorization,
            "the Authorization header must be text: a scheme, a space and a token",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if token.is_empty() {
        return Err(malformed());
    }
    Ok(Some((scheme, token)))
}

/// The value of the voter cookie, if the request sends one.
fn voter_cookie(headers: &HeaderMap) -> Result<Option<&str>, Refusal> {
    let malformed = |what: &str| Refusal::new(ErrorCode::MalformedCookie, what.to_owned());
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        let header = header
            .to_str()
            .map_err(|_| malformed("the Cookie header must be text"))?;
        let pairs = header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='));
        if let Some((_, value)) = pairs.into_iter().find(|(name, _)| *name == VOTER_COOKIE) {
            found = Some(value.trim());
        }
    }
    match found {
        Some("") => Err(malformed("the votewire_voter cookie is empty")),
        found => Ok(found),
    }
}

/// The voter of a request: `Authorization: Voter <token>`, else the cookie.
/// `Ok(None)` when there is neither; a refusal when what is given is not a voter.
pub(crate) fn voter(headers: &HeaderMap, keys: &TokenKeys) -> Result<Option<Voter>, Refusal> {
    let token = match authorization(headers)? {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("Voter") => Some(token),
        Some((scheme, _)) => {
            return Err(Refusal::new(
                ErrorCode::WrongAuthorizationScheme,
                format!("votes take Authorization: Voter <voter_token>, not {scheme}"),
            ));
        }
        None => voter_cookie(headers)?,
    };
    let Some(token) = token else {
        return Ok(None);
    };
    keys.verify_voter(token).map(Some).ok_or_else(|| {
        Refusal::new(
            ErrorCode::InvalidVoterToken,
            "the voter token is malformed or was not issued here",
        )
    })
}

/// Checks `Authorization: Bearer <owner_token>` for `poll`.
pub(crate) fn owner(headers: &HeaderMap, keys: &TokenKeys, poll: &PollId) -> Result<(), Refusal> {
    let token = match authorization(headers)? {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("Bearer") => token,
        Some((scheme, _)) => {
            return Err(Refusal::new(
                ErrorCode::WrongAuthorizationScheme,
                format!(
                    "an owner's action takes Authorization: Bearer <owner_token>, not {scheme}"
                ),
            ));
        }
        None => {
            return Err(Refusal::new(
                ErrorCode::OwnerTokenRequired,
                "send the poll's owner token as Authorization: Bearer <owner_token>",
            ));
        }
    };
    if keys.verify_owner(poll, token) {
        Ok(())
    } else {
        Err(Refusal::new(
            ErrorCode::InvalidOwnerToken,
            "this owner token does not belong to this poll",
        ))
    }
}

/// Whether the request sends the owner token of `poll`: `Ok(false)` without
/// `Authorization: Bearer`, a refusal when the token sent is not the poll's. For reads
/// that show the owner more (the counts of a poll whose results are hidden).
pub(crate) fn sends_owner_token(
    headers: &HeaderMap,
    keys: &TokenKeys,
    poll: &PollId,
) -> Result<bool, Refusal> {
    match authorization(headers)? {
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("Bearer") => {
            owner(headers, keys, poll).map(|()| true)
        }
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(vec![7; 32])
    }

    fn with(name: axum::http::HeaderName, value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    fn voter_code(headers: &HeaderMap) -> Option<ErrorCode> {
        voter(headers, &keys()).err().map(|refusal| refusal.code)
    }

    #[test]
    fn a_voter_comes_from_the_header_or_the_cookie_and_none_is_none() {
        let keys = keys();
        let issued = keys.issue_voter();
        let header = with(AUTHORIZATION, format!("Voter {}", issued.token).as_bytes());
        assert_eq!(voter(&header, &keys).unwrap().unwrap().id, issued.id);
        let cookie = with(
            COOKIE,
            format!("a=b; {VOTER_COOKIE}={}", issued.token).as_bytes(),
        );
        assert_eq!(voter(&cookie, &keys).unwrap().unwrap().id, issued.id);
        assert!(voter(&HeaderMap::new(), &keys).unwrap().is_none());
    }

    #[test]
    fn unreadable_credentials_are_refused_each_with_its_code() {
        use ErrorCode::*;
        let cases: [(HeaderMap, ErrorCode); 7] = [
            (
                with(AUTHORIZATION, b"Voter \xff\xfe"),
                MalformedAuthorization,
            ),
            (with(AUTHORIZATION, b"Voter"), MalformedAuthorization),
            (with(AUTHORIZATION, b"Voter    "), MalformedAuthorization),
            (
                with(AUTHORIZATION, b"Bearer abc.def"),
                WrongAuthorizationScheme,
            ),
            (with(COOKIE, b"votewire_voter=\xff"), MalformedCookie),
            (with(COOKIE, b"other=1; votewire_voter="), MalformedCookie),
            (with(AUTHORIZATION, b"Voter not-a-token"), InvalidVoterToken),
        ];
        for (headers, code) in cases {
            assert_eq!(voter_code(&headers), Some(code), "{headers:?}");
        }
    }

    #[test]
    fn an_owner_action_takes_bearer_only() {
        let poll = PollId::parse("p1").unwrap();
        let keys = keys();
        let token = keys.owner_token(&poll);
        let code = |headers: &HeaderMap| owner(headers, &keys, &poll).err().map(|r| r.code);
        assert_eq!(
            code(&with(AUTHORIZATION, format!("Bearer {token}").as_bytes())),
            None
        );
        assert_eq!(
            code(&with(AUTHORIZATION, format!("Voter {token}").as_bytes())),
            Some(ErrorCode::WrongAuthorizationScheme)
        );
        assert_eq!(code(&HeaderMap::new()), Some(ErrorCode::OwnerTokenRequired));
        assert_eq!(
            code(&with(AUTHORIZATION, b"Bearer ")),
            Some(ErrorCode::MalformedAuthorization)
        );
    }
}
