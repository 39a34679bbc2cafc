//! Health, readiness and the cluster view.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use votewire_proto::{ClusterView, HealthReport};

use crate::state::AppState;

/// The health routes.
pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The cluster view: internal, it names every node's address.
pub(super) fn cluster_routes() -> Router<AppState> {
    Router::new().route("/api/cluster", get(cluster))
}

#[utoipa::path(get, path = "/healthz", tag = "health", description = "The process is alive.",
    responses((status = 200, description = "Alive", body = HealthReport)))]
async fn healthz(State(app): State<AppState>) -> axum::Json<HealthReport> {
    axum::Json(HealthReport {
        status: "ok".into(),
        node: app.settings.node_id.clone(),
        checks: BTreeMap::new(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    description = "Ready for traffic: the database (and the bus) reachable, not draining.",
    responses((status = 200, description = "Ready", body = HealthReport),
        (status = 503, description = "Not ready: `checks` says what is not `ok`", body = HealthReport)))]
async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let mut checks = BTreeMap::new();
    let draining = app.shutdown.is_draining();
    checks.insert(
        "shutdown".to_owned(),
        if draining { "draining" } else { "ok" }.to_owned(),
    );
    let database = match app.store.ping().await {
        Ok(()) => "ok".to_owned(),
        Err(e) => format!("{e:?}"),
    };
    let bus = if app.fanout.bus_connected() {
        "ok"
    } else {
        "disconnected"
    };
    let ready = !draining && database == "ok" && bus == "ok";
    checks.insert("database".to_owned(), database);
    checks.insert("bus".to_owned(), bus.to_owned());
    let (status, word) = match (ready, draining) {
        (true, _) => (StatusCode::OK, "ready"),
        (false, true) => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
        (false, false) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
    };
    (
        status,
        axum::Json(HealthReport {
            status: word.into(),
            node: app.settings.node_id.clone(),
            checks,
        }),
    )
}

#[utoipa::path(get, path = "/api/cluster", tag = "health", description = "The live nodes; a single node lists itself.",
    responses((status = 200, description = "This node and the others it sees", body = ClusterView)))]
async fn cluster(State(app): State<AppState>) -> axum::Json<ClusterView> {
    axum::Json(app.presence.cluster_view().await)
}
