//! Who reads a poll over REST, as far as its results visibility goes
//! ([`crate::results`]): the owner by `Authorization: Bearer <owner_token>`, a voter
//! who voted by their token or cookie, anyone else. Credentials are only read when the
//! visibility makes them matter, so a `live` poll reads as it always did.

use axum::http::HeaderMap;
use chrono::Utc;
use votewire_proto::{PollView, Tally};

use crate::credentials;
use crate::error::Refusal;
use crate::results::{Reader, asks_whether_voted, sees_counts, shown};
use crate::state::AppState;
use crate::store::{PollRecord, PollState};

/// Who the request is to `poll`'s results. A credential that is sent but wrong is
/// refused, as everywhere.
pub(super) async fn reader(
    app: &AppState,
    headers: &HeaderMap,
    poll: &PollRecord,
) -> Result<Reader, Refusal> {
    let status = poll.status(Utc::now());
    if sees_counts(poll.results, Reader::Anyone, status) {
        return Ok(Reader::Anyone);
    }
    if credentials::sends_owner_token(headers, &app.keys, &poll.id)? {
        return Ok(Reader::Owner);
    }
    if asks_whether_voted(poll.results, status)
        && let Some(voter) = credentials::voter(headers, &app.keys)?
        && app.store.has_vote(&poll.id, &voter.id).await?
    {
        return Ok(Reader::Voted);
    }
    Ok(Reader::Anyone)
}

/// `tally`, a tally of `poll`, as the request may see it.
pub(super) async fn tally_for(
    app: &AppState,
    headers: &HeaderMap,
    poll: &PollRecord,
    tally: Tally,
) -> Result<Tally, Refusal> {
    let reader = reader(app, headers, poll).await?;
    Ok(shown(tally, poll.results, reader, poll.status(Utc::now())))
}

/// A poll and its tally as the request may see them.
pub(super) async fn view_for(
    app: &AppState,
    headers: &HeaderMap,
    state: PollState,
) -> Result<PollView, Refusal> {
    let tally = tally_for(app, headers, &state.poll, state.tally).await?;
    Ok(PollView {
        poll: state.poll.to_poll(Utc::now()),
        tally,
    })
}
