//! `/api/openapi.json`: the OpenAPI document, generated from the handlers' annotations
//! and the proto types, so it cannot drift from the code.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "votewire", description = "Real-time polls: REST to vote, WebSocket (`GET /ws`) to watch."),
    paths(
        super::polls::create_poll, super::polls::list_polls, super::polls::get_poll,
        super::polls::close_poll, super::polls::audit_poll, super::invites::mint_invites,
        super::votes::cast_vote, super::votes::withdraw_vote,
        super::voters::issue_voter,
        super::health::healthz, super::health::readyz, super::health::cluster, super::metrics::metrics,
    ),
    components(schemas(votewire_proto::ClientMessage, votewire_proto::ServerMessage)),
    modifiers(&OwnerToken),
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
