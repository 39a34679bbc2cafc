//! A poll's export through a real node: for its owner only, results and votes as CSV
//! and JSON, every standing vote once across pages, voters as pseudonyms.

use std::collections::HashSet;

use futures_util::future::join_all;
use votewire_proto::ErrorCode;
use votewire_testkit::{TestApp, exempt_loopback, spawn_app, spawn_app_with};

use crate::errors::expect_error;

async fn export(app: &TestApp, poll: &str, owner: Option<&str>, query: &str) -> reqwest::Response {
    let mut request = app
        .http
        .get(app.url(&format!("/api/polls/{poll}/export?{query}")));
    if let Some(owner) = owner {
        request = request.bearer_auth(owner);
    }
    app.send(request).await
}

#[tokio::test]
async fn the_owner_exports_results_and_every_vote_once_with_pseudonyms() {
    // 2,100 voters from one address: more than its limits allow a person.
    let app = spawn_app_with(exempt_loopback).await;
    let created = app.create_poll("Lunch?", &["=pizza", "sushi, fresh"]).await;
    let (poll, owner) = (created.poll.id.to_string(), created.owner_token);
    // More votes than one page of the export (1,000), so it reads three.
    let voters = app.new_voters(2_100).await;
    // Every third voter for sushi: 700 of 2,100.
    let choices: Vec<(&String, u32)> = voters
        .iter()
        .zip((0..3).cycle().map(|i| (i == 0) as u32))
        .collect();
    for chunk in choices.chunks(100) {
        let votes = chunk
            .iter()
            .map(|(voter, option)| app.vote(&poll, voter, *option));
        for response in join_all(votes).await {
            assert_eq!(response.status(), 200);
        }
    }

    let results = export(&app, &poll, Some(&owner), "what=results&format=csv").await;
    assert_eq!(results.status(), 200);
    assert_eq!(results.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = results.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"poll-{poll}-results.csv\"")
    );
    assert_eq!(
        results.text().await.unwrap(),
        "option,text,votes,percent\r\n0,'=pizza,1400,66.7\r\n1,\"sushi, fresh\",700,33.3\r\n"
    );

    let csv = export(&app, &poll, Some(&owner), "what=votes").await;
    assert_eq!(csv.status(), 200);
    let text = csv.text().await.unwrap();
    let mut lines = text.split("\r\n");
    assert_eq!(lines.next(), Some("voted_at,option,text,node,voter"));
    let rows: Vec<&str> = lines.filter(|line| !line.is_empty()).collect();
    assert_eq!(rows.len(), 2_100, "every standing vote, once");
    let pseudonyms: HashSet<&str> = rows
        .iter()
        .map(|row| row.rsplit(',').next().unwrap())
        .collect();
    assert_eq!(pseudonyms.len(), 2_100, "one pseudonym per voter");
    for voter in &voters[..20] {
        let id = voter.split('.').next().unwrap();
        assert!(
            !text.contains(id) && !text.contains(voter.as_str()),
            "no voter id or token"
        );
    }

    let json = export(&app, &poll, Some(&owner), "what=votes&format=json").await;
    assert_eq!(json.headers()["content-type"], "application/json");
    let votes: Vec<serde_json::Value> = json.json().await.unwrap();
    assert_eq!(votes.len(), 2_100);
    let sushi = votes.iter().filter(|v| v["option"] == 1).count();
    assert_eq!(sushi, 700);
    let node = app.ws().await.node;
    assert!(
        votes.iter().all(|v| v["node"] == node.as_str()),
        "the node that handled each"
    );
    let json_pseudonyms: HashSet<&str> =
        votes.iter().map(|v| v["voter"].as_str().unwrap()).collect();
    assert_eq!(
        json_pseudonyms, pseudonyms,
        "the same pseudonyms in both formats"
    );
}

#[tokio::test]
async fn an_export_needs_the_owner_token_and_a_known_what_and_format() {
    let app = spawn_app().await;
    let created = app.create_poll("Secret?", &["a", "b"]).await;
    let poll = created.poll.id.to_string();
    let other = app.create_poll("Other?", &["a", "b"]).await;
    expect_error(
        export(&app, &poll, None, "").await,
        401,
        ErrorCode::OwnerTokenRequired,
    )
    .await;
    expect_error(
        export(&app, &poll, Some(&other.owner_token), "").await,
        403,
        ErrorCode::InvalidOwnerToken,
    )
    .await;
    let owner = Some(created.owner_token.as_str());
    expect_error(
        export(&app, &poll, owner, "what=ballots").await,
        400,
        ErrorCode::InvalidQuery,
    )
    .await;
    expect_error(
        export(&app, &poll, owner, "format=xml").await,
        400,
        ErrorCode::InvalidQuery,
    )
    .await;
    let empty = export(&app, &poll, owner, "what=votes&format=json").await;
    assert_eq!(empty.text().await.unwrap(), "[]");
}
