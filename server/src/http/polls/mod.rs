//! `/api/polls`: create, list, read, close and audit polls.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use votewire_proto::{
    CreatePoll, CreatedPoll, ErrorBody, ErrorCode, PollAudit, PollId, PollList, PollListItem,
    PollView, ResultsVisibility, VotingMode,
};

use super::extract::{Json, PollPath, Query};
use super::idempotency::{self, KeyHeader};
use super::readers::{tally_for, view_for};
use crate::abuse::{NewPoll, Within};
use crate::error::Refusal;
use crate::settings::{Limits, MIN_OPTIONS};
use crate::state::AppState;
use crate::store::{Creation, ListCursor, MAX_SET_OPTIONS, PollRecord, PollState, StoreError};
use crate::token::{new_join_code, new_poll_id};

/// Join codes drawn for one poll before giving up: with a million polls, a draw is
/// taken once in 887, so five all taken is as good as never.
const JOIN_CODE_DRAWS: u32 = 5;

/// Polls per page when `limit` is not given, and the most a page may hold.
const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

/// The latest closing time taken, 9999-12-31T23:59:59.999Z: RFC 3339 writes years with
/// four digits, so a later one would be answered as `+10000-..`, which neither the
/// document's `date-time` nor a browser's `Date` reads.
const LATEST_CLOSES_AT_MS: i64 = 253_402_300_799_999;

/// The poll routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/polls", post(create_poll).get(list_polls))
        .route("/api/polls/{id}", get(get_poll))
        .route("/api/polls/{id}/close", post(controls::close_poll))
        .route("/api/polls/{id}/reopen", post(controls::reopen_poll))
        .route("/api/polls/{id}/reset", post(controls::reset_poll))
        .route("/api/polls/{id}/pause", post(controls::pause_poll))
        .route("/api/polls/{id}/resume", post(controls::resume_poll))
        .route("/api/polls/{id}/results", post(controls::set_results))
        .route("/api/polls/{id}/audit", get(audit_poll))
}

/// A poll that passed validation: trimmed texts within the limits, with no NUL (which
/// PostgreSQL's text cannot hold), and a closing time answered in RFC 3339.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ValidPoll {
    pub(super) question: String,
    pub(super) options: Vec<String>,
    pub(super) closes_at: Option<DateTime<Utc>>,
    pub(super) mode: VotingMode,
    pub(super) listed: bool,
    pub(super) results: ResultsVisibility,
    pub(super) max_choices: u32,
}

/// Checks a new poll against the limits, at the server's `now`.
pub(super) fn validate(
    body: CreatePoll,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<ValidPoll, Refusal> {
    let question = body.question.trim().to_owned();
    let question_chars = question.chars().count();
    if question_chars == 0 || question_chars > limits.max_question_chars || question.contains('\0')
    {
        return Err(Refusal::new(
            ErrorCode::InvalidQuestion,
            format!(
                "the question must have 1 to {} characters, none of them NUL",
                limits.max_question_chars
            ),
        ));
    }
    if body.options.len() < MIN_OPTIONS || body.options.len() > limits.max_options {
        return Err(Refusal::new(
            ErrorCode::InvalidOptions,
            format!(
                "a poll needs {MIN_OPTIONS} to {} options, not {}",
                limits.max_options,
                body.options.len()
            ),
        ));
    }
    let mut options: Vec<String> = Vec::with_capacity(body.options.len());
    for (i, option) in body.options.iter().enumerate() {
        let option = option.trim();
        let chars = option.chars().count();
        if chars == 0 || chars > limits.max_option_chars || option.contains('\0') {
            return Err(Refusal::new(
                ErrorCode::InvalidOptions,
                format!(
                    "option {i} must have 1 to {} characters, none of them NUL",
                    limits.max_option_chars
                ),
            ));
        }
        if options
            .iter()
            .any(|o| o.to_lowercase() == option.to_lowercase())
        {
            return Err(Refusal::new(
                ErrorCode::InvalidOptions,
                format!("option {i} repeats an earlier option"),
            ));
        }
        options.push(option.to_owned());
    }
    // Whole milliseconds, as every store keeps times: the answer equals a later read.
    let closes_at = body
        .closes_at
        .and_then(|at| DateTime::from_timestamp_millis(at.timestamp_millis()));
    if closes_at.is_some_and(|at| at <= now || at.timestamp_millis() > LATEST_CLOSES_AT_MS) {
        return Err(Refusal::new(
            ErrorCode::InvalidClosesAt,
            "closes_at must be in the future, before the year 10000",
        ));
    }
    let max_choices = body.max_choices.unwrap_or(1);
    let set_options_fit = max_choices == 1 || options.len() as u32 <= MAX_SET_OPTIONS;
    if max_choices == 0 || max_choices as usize > options.len() || !set_options_fit {
        return Err(Refusal::new(
            ErrorCode::InvalidMaxChoices,
            format!(
                "max_choices must be 1 to the number of options ({}), and a poll that takes \
                 more than one has at most {MAX_SET_OPTIONS} options",
                options.len()
            ),
        ));
    }
    Ok(ValidPoll {
        question,
        options,
        closes_at,
        mode: body.mode.unwrap_or_default(),
        listed: body.listed.unwrap_or(true),
        results: body.results.unwrap_or_default(),
        max_choices,
    })
}

#[utoipa::path(post, path = "/api/polls", tag = "polls", request_body = CreatePoll,
    params(("Idempotency-Key" = Option<String>, Header, description = "A key the client makes for this \
        creation (e.g. a UUID): the same request sent again with it, to any node within the retention, \
        answers the poll it made instead of making another")),
    responses((status = 201, description = "The poll, and the owner token that closes it", body = CreatedPoll),
        (status = 400, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn create_poll(
    _: Within<NewPoll>,
    app: axum::extract::State<AppState>,
    KeyHeader(key): KeyHeader,
    Json(body): Json<CreatePoll>,
) -> Result<impl IntoResponse, Refusal> {
    // Whole milliseconds, as every store keeps times: the answer equals a later read.
    let now = DateTime::from_timestamp_millis(Utc::now().timestamp_millis())
        .expect("now is representable");
    let retention = app.settings.limits.idempotency_key_retention;
    let key = key.map(|key| idempotency::for_creation(key, &body, now, retention));
    let valid = validate(body, &app.settings.limits, now)?;
    let mut record = PollRecord {
        id: new_poll_id(),
        question: valid.question,
        options: valid.options,
        created_at: now,
        closes_at: valid.closes_at,
        closed_at: None,
        mode: valid.mode,
        join_code: Some(new_join_code()),
        listed: valid.listed,
        paused: false,
        results: valid.results,
        max_choices: valid.max_choices,
    };
    let mut draws = 1;
    let created = loop {
        match app.store.create_poll(&record, key.as_ref()).await {
            Err(StoreError::Taken) if draws < JOIN_CODE_DRAWS => {
                record.join_code = Some(new_join_code());
                draws += 1;
            }
            created => break created?,
        }
    };
    let poll = match created {
        Creation::Created => record.to_poll(now),
        Creation::Replayed(state) => state.poll.to_poll(Utc::now()),
        Creation::KeyReused => {
            return Err(Refusal::new(
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key already made a poll from another request: \
                 use a new key for a new poll",
            ));
        }
    };
    let owner_token = app.keys.owner_token(&poll.id);
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedPoll { poll, owner_token }),
    ))
}

/// `GET /api/polls` query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListParams {
    /// Polls per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// The `next` value of the previous page.
    #[param(pattern = r"^[0-9]{1,15}\.[A-Za-z0-9_-]{1,64}$")]
    before: Option<String>,
}

fn encode_cursor(poll: &PollRecord) -> String {
    format!("{}.{}", poll.created_at.timestamp_millis(), poll.id)
}

fn decode_cursor(text: &str) -> Result<ListCursor, Refusal> {
    let invalid = || {
        Refusal::new(
            ErrorCode::InvalidQuery,
            "before: pass the `next` value of the previous page",
        )
    };
    let (ms, id) = text.split_once('.').ok_or_else(invalid)?;
    let created_at = ms
        .parse()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(invalid)?;
    let id = PollId::parse(id).map_err(|_| invalid())?;
    Ok(ListCursor { created_at, id })
}

#[utoipa::path(get, path = "/api/polls", tag = "polls", params(ListParams),
    responses((status = 200, description = "A page of open polls, newest first", body = PollList),
        (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn list_polls(
    app: axum::extract::State<AppState>,
    Query(params): Query<ListParams>,
) -> Result<axum::Json<PollList>, Refusal> {
    let limit = params.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Refusal::new(
            ErrorCode::InvalidQuery,
            format!("limit must be 1 to {MAX_PAGE}"),
        ));
    }
    let after = params.before.as_deref().map(decode_cursor).transpose()?;
    let now = Utc::now();
    let rows = app.store.list_open(now, limit + 1, after.as_ref()).await?;
    let next = (rows.len() > limit as usize).then(|| encode_cursor(&rows[limit as usize - 1].0));
    let polls = rows
        .into_iter()
        .take(limit as usize)
        .map(|(poll, total)| PollListItem {
            poll: poll.to_poll(now),
            total,
        })
        .collect();
    Ok(axum::Json(PollList { polls, next }))
}

/// The poll `id` with its tally as the request may see it, as `GET /api/polls/{id}`
/// answers it.
pub(super) async fn poll_view(
    app: &AppState,
    headers: &HeaderMap,
    id: &PollId,
) -> Result<PollView, Refusal> {
    view_for(app, headers, app.store.poll(id).await?).await
}

/// A poll and its whole tally as the API shows them now to its owner.
pub(super) fn view(state: PollState) -> PollView {
    PollView {
        poll: state.poll.to_poll(Utc::now()),
        tally: state.tally,
    }
}

#[utoipa::path(get, path = "/api/polls/{id}", tag = "polls", params(("id" = PollId, Path, description = "poll id")),
    description = "The tally's `counts` are empty when the poll's `results` hide them from the reader: \
        its owner (`Authorization: Bearer <owner_token>`) always sees them, a voter who voted \
        (`Authorization: Voter <token>` or the cookie) on an `after_vote` poll does too.",
    responses((status = 200, description = "The poll and its tally", body = PollView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn get_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<PollView>, Refusal> {
    poll_view(&app, &headers, &id).await.map(axum::Json)
}

#[utoipa::path(get, path = "/api/polls/{id}/audit", tag = "polls", params(("id" = PollId, Path, description = "poll id")),
    description = "The tally's `counts` are hidden as `GET /api/polls/{id}` hides them; the votes per node \
        tell nothing of the options.",
    responses((status = 200, description = "The votes that count now, per node that handled them", body = PollAudit),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn audit_poll(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    headers: HeaderMap,
) -> Result<axum::Json<PollAudit>, Refusal> {
    let poll = app.store.poll(&id).await?.poll;
    let (tally, nodes) = app.store.audit(&id).await?;
    let tally = tally_for(&app, &headers, &poll, tally).await?;
    Ok(axum::Json(PollAudit {
        poll: id,
        tally,
        nodes,
    }))
}

pub(super) mod controls;
#[cfg(test)]
mod tests;
