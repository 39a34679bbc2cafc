//! While the node starts (above all while it waits for its database, which can take
//! minutes during a failover), its port already answers: `/livez` says the process is
//! alive, so a liveness probe does not kill a node that is only waiting, `/readyz`
//! says 503 `starting`, so no traffic is sent to it yet, and every other request gets
//! a JSON 503 it can retry. Once the node is built, the same listener passes to it.

use std::collections::BTreeMap;
use std::future::Future;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use votewire_proto::{ErrorCode, HealthReport, NodeId};

use super::accept::{self, Connections};
use super::{Node, StartError};
use crate::error::Refusal;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Builds the node with `build` while `listener` answers as a starting node; returns
/// the node and the listener to serve it on.
pub async fn answer_while_starting(
    listener: TcpListener,
    settings: &Settings,
    build: impl Future<Output = Result<Node, StartError>>,
) -> Result<(Node, TcpListener), StartError> {
    let connections = Connections {
        header_read_timeout: settings.limits.header_read_timeout,
        send_buffer_bytes: settings.limits.socket_send_buffer_bytes,
        capped_by: None,
    };
    let started = Shutdown::new();
    let answering = tokio::spawn(accept::serve_then_hand_back(
        listener,
        router(settings.node_id.clone()),
        connections,
        started.clone(),
    ));
    let built = build.await;
    started.fire();
    let listener = answering
        .await
        .map_err(|e| StartError(format!("the start-up listener failed: {e}")))?;
    built.map(|node| (node, listener))
}

/// What a starting node answers.
fn router(node: NodeId) -> Router {
    let report = move |status: &str, checks: BTreeMap<String, String>| HealthReport {
        status: status.into(),
        node: node.clone(),
        checks,
    };
    let alive = report("ok", BTreeMap::new());
    let starting = report(
        "starting",
        BTreeMap::from([("database".to_owned(), "connecting".to_owned())]),
    );
    let live = move || {
        let alive = alive.clone();
        async move { axum::Json(alive) }
    };
    Router::new()
        .route("/livez", get(live.clone()))
        .route("/healthz", get(live))
        .route(
            "/readyz",
            get(move || async move { (StatusCode::SERVICE_UNAVAILABLE, axum::Json(starting)) }),
        )
        .fallback(|| async {
            Refusal::new(
                ErrorCode::DatabaseUnavailable,
                "the node is starting: it waits for its database; retry shortly",
            )
            .into_response()
        })
}
