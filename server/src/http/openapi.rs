//! `/api/openapi.json`: the OpenAPI document, generated from the handlers' annotations
//! and the proto types, so it cannot drift from the code.
//!
//! Each handler lists every status it can answer (its success, then its refusals with
//! `body = ErrorBody`); the words of a refusal depend only on its status, so they are
//! written once here ([`Refusals`]) rather than repeated on every route. The document is
//! checked by a real validator and by schemathesis against a real node (`./build.sh`).

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::RefOr;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "votewire", description = "Real-time polls: REST to vote, WebSocket (`GET /ws`) to watch. \
        Every refusal is `{\"error\":{\"code\",\"message\"}}`; a route that does not take the method \
        answers 405 `method_not_allowed`, an unknown route 404 `not_found`.\n\n\
        WebSocket `GET /ws` (not an OpenAPI operation; its messages are the `ClientMessage` and \
        `ServerMessage` schemas): JSON text frames with a `type`. On connect the server sends \
        `{\"type\":\"hello\",\"node\",\"protocol\":1}`. The client sends \
        `{\"type\":\"subscribe\",\"poll\",\"since\"?}` and gets `{\"type\":\"snapshot\",\"poll\",\"status\",\"tally\"}` \
        (skipped when `since` is the current version of an open poll), then `update` frames as votes \
        commit and `closed` when the poll closes; `{\"type\":\"unsubscribe\",\"poll\"}` stops one. A \
        socket with a voter's cookie gets `rejected` when a vote of that voter answered 202 (stream \
        ingest) was refused when counted. `{\"type\":\"watch_cluster\"}` brings a `cluster` message \
        (the nodes' telemetry) every two seconds until `unwatch_cluster`. Show a \
        tally only when its `version` is higher than the one shown. A refused message gets \
        `{\"type\":\"error\",\"code\",\"message\"}`. A page from another origin is refused with 403 \
        `forbidden_origin` before the upgrade. Close codes: 1001 the node shuts down, 1002 a protocol \
        violation, 1007 invalid UTF-8, 1009 a message too large, 1013 rate limited (try again later). Reconnect with jittered backoff and resubscribe with `since`. \
        A human-readable rendering of this document is served at `/api/docs`."),
    paths(
        super::polls::create_poll, super::polls::list_polls, super::polls::get_poll,
        super::polls::controls::close_poll, super::polls::controls::reopen_poll, super::polls::controls::reset_poll,
        super::polls::controls::pause_poll, super::polls::controls::resume_poll, super::polls::controls::set_results, super::polls::audit_poll, super::join::join, super::export::export,
        super::invites::mint_invites,
        super::votes::cast_vote, super::votes::withdraw_vote,
        super::voters::issue_voter,
        super::health::livez, super::health::healthz, super::health::readyz, super::health::cluster, super::metrics::metrics,
    ),
    components(schemas(votewire_proto::ClientMessage, votewire_proto::ServerMessage)),
    modifiers(&OwnerToken, &Refusals),
)]
struct ApiDoc;

struct OwnerToken;

impl utoipa::Modify for OwnerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "owner_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Gives every refusal that has no words of its own the words of its status: OpenAPI
/// requires a description on every response.
struct Refusals;

impl utoipa::Modify for Refusals {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.post, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for (status, response) in &mut operation.responses.responses {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = refusal_words(status).to_owned();
                    }
                }
            }
        }
    }
}

/// What a refusal with this status means; `error.code` says which case it is.
fn refusal_words(status: &str) -> &'static str {
    match status {
        "400" => {
            "`malformed_json` (the body is not JSON), `invalid_query` (bad `limit` or \
             `before`), `invalid_poll_id` (the id in the path) or `invalid_join_code` (the \
             code in the path)"
        }
        "401" => {
            "credentials missing or unreadable: `voter_required`, `invalid_voter_token`, \
             `malformed_authorization`, `malformed_cookie`, `wrong_authorization_scheme`, \
             `owner_token_required`"
        }
        "403" => "`invalid_owner_token`: the owner token is not this poll's",
        "404" => "`poll_not_found`: no poll has this id (or join code)",
        "409" => "`poll_closed`: the poll takes no more votes",
        "413" => "`payload_too_large`: the body is over `--max-body-bytes`",
        "415" => "`unsupported_media_type`: the body is not `application/json`",
        "422" => {
            "the body does not fit: `invalid_body` (types, missing or unknown fields), \
             `invalid_question`, `invalid_options`, `invalid_closes_at`, \
             `option_out_of_range`"
        }
        "429" => "`rate_limited`: too many requests from this address; retry later",
        "503" => {
            "`database_unavailable` or `draining`: nothing was changed; retry, on another \
             node if there is one"
        }
        _ => "",
    }
}

/// The document as JSON.
pub(super) fn document() -> String {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serializes")
}

/// The OpenAPI route.
pub(super) fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                document(),
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statuses a handler lists without words (neither its own nor a refusal's) would
    /// make the document invalid; the validator run in `tests/api` says so too, later.
    #[test]
    fn every_response_has_words_and_every_refusal_the_error_body() {
        let document: serde_json::Value = serde_json::from_str(&document()).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    let at = format!("{method} {path} {status}");
                    let words = response["description"].as_str().unwrap_or_default();
                    assert!(!words.is_empty(), "{at} has no description");
                    if status.starts_with('4') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{at}"
                        );
                    }
                }
            }
        }
    }
}
