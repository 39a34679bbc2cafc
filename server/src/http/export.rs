//! `GET /api/polls/{id}/export`: a poll's results or its votes, as CSV or JSON, for its
//! owner.
//!
//! The votes are streamed: read in pages of [`PAGE`] by voter id (the primary key's
//! order, so each page is one index range) and written as they arrive, so a poll of
//! any size costs the node one page of memory. Each vote shows a pseudonym of its voter
//! ([`crate::token::TokenKeys::voter_pseudonym`]), never the id or the token. A read
//! that fails after the first bytes went out can only cut the download short; the log
//! says so. An open poll's votes may move while the pages are read: close it first
//! for a final export.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::SecondsFormat;
use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use votewire_proto::{ErrorBody, PollId, Tally};

use super::extract::{PollPath, Query};
use crate::credentials;
use crate::error::Refusal;
use crate::state::AppState;
use crate::store::StoredVote;

/// Votes read per query.
const PAGE: u32 = 1000;

/// The export route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/polls/{id}/export", get(export))
}

/// What to export.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum What {
    /// One row per option: its votes and share.
    #[default]
    Results,
    /// One row per voter's standing vote.
    Votes,
}

/// In which format.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum Format {
    #[default]
    Csv,
    Json,
}

/// `GET /api/polls/{id}/export` query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    /// `results` (the default) or `votes`.
    #[param(inline)]
    what: Option<What>,
    /// `csv` (the default) or `json`.
    #[param(inline)]
    format: Option<Format>,
}

/// One option's line of the results.
#[derive(Serialize)]
struct ResultRow<'a> {
    option: usize,
    text: &'a str,
    votes: u64,
    /// Of all votes, rounded to a tenth of a percent.
    percent: f64,
}

/// One vote's line.
#[derive(Serialize)]
struct VoteRow<'a> {
    voted_at: String,
    option: u32,
    text: &'a str,
    node: &'a str,
    voter: String,
}

#[utoipa::path(get, path = "/api/polls/{id}/export", tag = "polls",
    params(("id" = PollId, Path, description = "poll id"), ExportParams),
    security(("owner_token" = [])),
    description = "For the poll's owner. `results`: `option,text,votes,percent` (JSON: \
        `{\"poll\",\"version\",\"total\",\"options\":[..]}`). `votes`: one line per voter's standing \
        vote (one per option chosen, on a multiple-choice poll), `voted_at,option,text,node,voter` (JSON: an array of those objects), in no particular \
        order, streamed page by page; `voter` is a pseudonym, the same for a voter within a poll \
        and unlinkable across polls. Text cells that a spreadsheet would take for a formula start \
        with `'`.",
    responses((status = 200, description = "The file (Content-Disposition: attachment), text/csv or application/json", content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn export(
    app: axum::extract::State<AppState>,
    PollPath(id): PollPath,
    Query(params): Query<ExportParams>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    credentials::owner(&headers, &app.keys, &id)?;
    let state = app.store.poll(&id).await?;
    let (what, format) = (
        params.what.unwrap_or_default(),
        params.format.unwrap_or_default(),
    );
    let options = state.poll.options;
    let body = match what {
        What::Results => Body::from(results(&id, &options, &state.tally, format)),
        What::Votes => Body::from_stream(votes(app.0.clone(), id.clone(), options, format)),
    };
    let (kind, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Json => ("application/json", "json"),
    };
    let name = match what {
        What::Results => "results",
        What::Votes => "votes",
    };
    let disposition = format!("attachment; filename=\"poll-{id}-{name}.{extension}\"");
    Ok((
        [
            (CONTENT_TYPE, kind.to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The whole results file.
fn results(id: &PollId, options: &[String], tally: &Tally, format: Format) -> String {
    let rows = options.iter().enumerate().map(|(option, text)| {
        let votes = tally.counts.get(option).copied().unwrap_or(0);
        let share = if tally.total == 0 {
            0.0
        } else {
            votes as f64 * 100.0 / tally.total as f64
        };
        ResultRow {
            option,
            text,
            votes,
            percent: (share * 10.0).round() / 10.0,
        }
    });
    match format {
        Format::Csv => {
            let mut csv = String::from("option,text,votes,percent\r\n");
            for row in rows {
                let cells = [
                    row.option.to_string(),
                    cell(row.text),
                    row.votes.to_string(),
                    format!("{:.1}", row.percent),
                ];
                csv.push_str(&cells.join(","));
                csv.push_str("\r\n");
            }
            csv
        }
        Format::Json => serde_json::json!({
            "poll": id,
            "version": tally.version,
            "total": tally.total,
            "options": rows.collect::<Vec<_>>(),
        })
        .to_string(),
    }
}

/// Where a votes export stands between pages.
struct Cursor {
    /// The last voter id written; `None` once the last page is out.
    after: Option<String>,
    /// No vote was written yet (JSON's commas).
    first: bool,
}

/// The votes file, as a stream of chunks: the header, a chunk per page, the footer.
fn votes(
    app: AppState,
    id: PollId,
    options: Vec<String>,
    format: Format,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let (head, tail) = match format {
        Format::Csv => ("voted_at,option,text,node,voter\r\n", ""),
        Format::Json => ("[", "]"),
    };
    let start = Cursor {
        after: Some(String::new()),
        first: true,
    };
    let pages = stream::unfold(start, move |cursor| {
        let (app, id, options) = (app.clone(), id.clone(), options.clone());
        async move {
            let after = cursor.after?;
            match app.store.votes_page(&id, &after, PAGE).await {
                Ok(page) => {
                    let next = Cursor {
                        after: (page.len() == PAGE as usize)
                            .then(|| page.last().map(|v| v.voter.clone()))
                            .flatten(),
                        first: cursor.first && page.is_empty(),
                    };
                    let chunk = encode_votes(&app, &id, &options, &page, format, cursor.first);
                    Some((Ok(Bytes::from(chunk)), next))
                }
                Err(e) => {
                    tracing::warn!(poll = %id, error = %e, "an export stopped: a page of votes could not be read");
                    let stop = Cursor {
                        after: None,
                        first: false,
                    };
                    Some((
                        Err(std::io::Error::other("the votes could not be read")),
                        stop,
                    ))
                }
            }
        }
    });
    stream::once(async move { Ok(Bytes::from_static(head.as_bytes())) })
        .chain(pages)
        .chain(stream::once(async move {
            Ok(Bytes::from_static(tail.as_bytes()))
        }))
}

/// One page of votes in `format`; `first`: no vote was written before it.
fn encode_votes(
    app: &AppState,
    id: &PollId,
    options: &[String],
    page: &[StoredVote],
    format: Format,
    first: bool,
) -> String {
    let mut out = String::new();
    // A multiple-choice vote is a line per option chosen, each with the same voter.
    let lines = page.iter().flat_map(|vote| {
        vote.choice
            .options()
            .into_iter()
            .map(move |option| (vote, option))
    });
    for (i, (vote, option)) in lines.enumerate() {
        let row = VoteRow {
            voted_at: vote.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            option,
            text: options.get(option as usize).map_or("", String::as_str),
            node: &vote.node,
            voter: app.keys.voter_pseudonym(id, &vote.voter),
        };
        match format {
            Format::Csv => {
                let cells = [
                    row.voted_at,
                    row.option.to_string(),
                    cell(row.text),
                    cell(row.node),
                    row.voter,
                ];
                out.push_str(&cells.join(","));
                out.push_str("\r\n");
            }
            Format::Json => {
                if !(first && i == 0) {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(&row).expect("a row serializes"));
            }
        }
    }
    out
}

/// A CSV cell (RFC 4180): quoted when it holds a comma, a quote or a line break, and
/// with a leading `'` when a spreadsheet would run it as a formula.
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_where_csv_needs_it_and_formulas_are_defused() {
        assert_eq!(cell("tea"), "tea");
        assert_eq!(cell("tea, milk"), "\"tea, milk\"");
        assert_eq!(cell("the \"best\""), "\"the \"\"best\"\"\"");
        assert_eq!(cell("=SUM(A1:A9)"), "'=SUM(A1:A9)");
        assert_eq!(cell("-1, +1"), "\"'-1, +1\"");
    }

    #[test]
    fn results_list_every_option_with_its_share() {
        let id = PollId::parse("p").unwrap();
        let tally = Tally {
            version: 4,
            counts: vec![1, 2, 0],
            total: 3,
        };
        let options = ["a".to_owned(), "b, c".to_owned(), "d".to_owned()];
        assert_eq!(
            results(&id, &options, &tally, Format::Csv),
            "option,text,votes,percent\r\n0,a,1,33.3\r\n1,\"b, c\",2,66.7\r\n2,d,0,0.0\r\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&results(&id, &options, &tally, Format::Json)).unwrap();
        assert_eq!(json["total"], 3);
        assert_eq!(json["options"][1]["text"], "b, c");
        assert_eq!(json["options"][1]["percent"], 66.7);
    }
}
