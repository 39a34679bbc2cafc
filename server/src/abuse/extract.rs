//! The extractors: [`ClientAddress`], the address a request is counted against, and
//! [`Within`], a request within its address's budget for one [`Limit`].
//!
//! They read the peer from the `ConnectInfo<SocketAddr>` extension and nothing else,
//! so whatever serves the node (axum's `serve` with connect info, or an accept loop of
//! our own) only has to put that extension on each request. Generic over the state
//! (`Arc<Abuse>: FromRef<S>`) so that this module needs neither the router nor the
//! node's state.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use votewire_proto::ErrorCode;

use super::{Abuse, Limit};
use crate::error::Refusal;

/// The header a proxy appends the address it saw to.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address: the TCP peer, or behind a trusted proxy the last hop of
/// `X-Forwarded-For` that is not one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddress(pub(crate) IpAddr);

impl<S> FromRequestParts<S> for ClientAddress
where
    Arc<Abuse>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            tracing::error!("a request came without its peer's address (ConnectInfo)");
            return Err(Refusal::new(
                ErrorCode::Internal,
                "the node does not know where this request came from",
            ));
        };
        let abuse = Arc::<Abuse>::from_ref(state);
        let forwarded = parts.headers.get_all(FORWARDED_FOR).iter();
        Ok(Self(
            abuse.client(peer.ip(), forwarded.map(|v| v.as_bytes())),
        ))
    }
}

/// Which [`Limit`] a [`Within`] takes a token of.
pub(crate) trait Budget {
    /// The limit.
    const LIMIT: Limit;
}

/// `POST /api/voters`.
pub(crate) struct NewVoter;
/// `POST` or `DELETE` of a vote.
pub(crate) struct Vote;
/// `POST /api/polls`.
pub(crate) struct NewPoll;

impl Budget for NewVoter {
    const LIMIT: Limit = Limit::Voters;
}
impl Budget for Vote {
    const LIMIT: Limit = Limit::Votes;
}
impl Budget for NewPoll {
    const LIMIT: Limit = Limit::Polls;
}

/// A request that took a token of `B`'s bucket for its client's address; refused with
/// 429 `rate_limited` and `Retry-After` when the bucket is empty. Put it before the
/// body extractor, so a refused request is not read further.
pub(crate) struct Within<B>(PhantomData<B>);

impl<S, B> FromRequestParts<S> for Within<B>
where
    Arc<Abuse>: FromRef<S>,
    S: Send + Sync,
    B: Budget,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let ClientAddress(client) = ClientAddress::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Arc::<Abuse>::from_ref(state)
            .check(B::LIMIT, client)
            .map_err(IntoResponse::into_response)?;
        Ok(Self(PhantomData))
    }
}
