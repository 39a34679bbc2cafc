//! Polls and votes over REST.

use serde_json::json;
use votewire_proto::{PollAudit, PollList, PollStatus, VoteResponse, WithdrawResponse};

use votewire_testkit::spawn_app;

#[tokio::test]
async fn a_created_poll_reads_back_with_an_empty_tally() {
    let app = spawn_app().await;
    let created = app.create_poll("Tea or coffee?", &["tea", "coffee"]).await;
    assert_eq!(created.poll.status, PollStatus::Open);
    assert!(!created.owner_token.is_empty());
    let view = app.get_poll(created.poll.id.as_str()).await;
    assert_eq!(view.poll, created.poll);
    assert_eq!(
        (view.tally.version, view.tally.counts, view.tally.total),
        (0, vec![0, 0], 0)
    );
}

#[tokio::test]
async fn a_vote_counts_once_changes_and_withdraws() {
    let app = spawn_app().await;
    let poll = app.new_poll("Pick", &["a", "b", "c"]).await;
    let voter = app.new_voter().await;

    let first: VoteResponse = app.vote(&poll, &voter, 1).await.json().await.unwrap();
    assert_eq!(
        (first.tally.counts.clone(), first.tally.version),
        (vec![0, 1, 0], 1)
    );
    assert_eq!(first.vote.node.as_str(), "node-a");

    let repeated: VoteResponse = app.vote(&poll, &voter, 1).await.json().await.unwrap();
    assert_eq!(
        repeated.tally, first.tally,
        "a repeated vote changes nothing"
    );

    let changed: VoteResponse = app.vote(&poll, &voter, 2).await.json().await.unwrap();
    assert_eq!(
        (
            changed.tally.counts.clone(),
            changed.tally.version,
            changed.tally.total
        ),
        (vec![0, 0, 1], 2, 1)
    );

    let withdraw = |voter: String| {
        let request = app
            .http
            .delete(app.url(&format!("/api/polls/{poll}/votes")));
        request
            .header("authorization", format!("Voter {voter}"))
            .send()
    };
    let withdrawn: WithdrawResponse = withdraw(voter.clone()).await.unwrap().json().await.unwrap();
    assert!(withdrawn.withdrawn);
    assert_eq!(
        (
            withdrawn.tally.counts,
            withdrawn.tally.version,
            withdrawn.tally.total
        ),
        (vec![0, 0, 0], 3, 0)
    );
    let again: WithdrawResponse = withdraw(voter).await.unwrap().json().await.unwrap();
    assert!(!again.withdrawn);
    assert_eq!(again.tally.version, 3);
    assert_eq!(app.recount(&poll, 3).await, vec![0, 0, 0]);
}

#[tokio::test]
async fn a_vote_without_a_voter_is_refused_however_often_it_is_sent_and_counts_nothing() {
    let app = spawn_app().await;
    let poll = app.new_poll("Pick", &["a", "b"]).await;
    let url = app.url(&format!("/api/polls/{poll}/votes"));
    // The loop a new user tries first: fifty cookie-less votes.
    for _ in 0..50 {
        let refused = app
            .http
            .post(&url)
            .json(&json!({ "option": 0 }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        assert!(
            refused.headers().get("set-cookie").is_none(),
            "a vote never mints a voter"
        );
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "voter_required", "{body}");
    }
    assert_eq!(app.recount(&poll, 2).await, vec![0, 0]);
    assert_eq!(app.get_poll(&poll).await.tally.version, 0);
}

#[tokio::test]
async fn a_voter_issued_in_a_cookie_then_identifies_the_browser() {
    let app = spawn_app().await;
    let poll = app.new_poll("Pick", &["a", "b"]).await;
    let issued = app.send(app.http.post(app.url("/api/voters"))).await;
    assert_eq!(issued.status(), 201);
    let cookie = issued.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let url = app.url(&format!("/api/polls/{poll}/votes"));
    for option in [0, 1] {
        let vote = app
            .http
            .post(&url)
            .header("cookie", &pair)
            .json(&json!({ "option": option }))
            .send()
            .await
            .unwrap();
        assert_eq!(vote.status(), 200);
        assert!(vote.headers().get("set-cookie").is_none());
        let body: VoteResponse = vote.json().await.unwrap();
        assert_eq!(body.vote.option, option);
    }
    assert_eq!(
        app.recount(&poll, 2).await,
        vec![0, 1],
        "the cookie's voter changed its vote"
    );
}

#[tokio::test]
async fn the_owner_closes_a_poll_and_later_votes_are_refused() {
    let app = spawn_app().await;
    let created = app.create_poll("Pick", &["a", "b"]).await;
    let poll = created.poll.id.to_string();
    let voter = app.new_voter().await;
    app.vote(&poll, &voter, 0).await;
    let closed = app.close_poll(&poll, &created.owner_token).await;
    assert_eq!(closed.status(), 200);
    let view = app.get_poll(&poll).await;
    assert_eq!(view.poll.status, PollStatus::Closed);
    assert!(view.poll.closed_at.is_some());
    let late = app.vote(&poll, &voter, 1).await;
    assert_eq!(late.status(), 409);
    assert_eq!(app.recount(&poll, 2).await, vec![1, 0]);
}

#[tokio::test]
async fn the_audit_counts_votes_per_node_and_the_list_pages_newest_first() {
    let app = spawn_app().await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(
            app.create_poll(&format!("Poll {i}"), &["a", "b"])
                .await
                .poll,
        );
    }
    // Newest first; polls created in the same millisecond are ordered by id.
    created.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let ids: Vec<String> = created.iter().map(|p| p.id.to_string()).collect();
    for option in [0, 1, 1] {
        let voter = app.new_voter().await;
        app.vote(&ids[4], &voter, option).await;
    }
    let audit: PollAudit = app.get_json(&format!("/api/polls/{}/audit", ids[4])).await;
    assert_eq!(audit.nodes.len(), 1);
    assert_eq!(
        (audit.nodes[0].node.as_str(), audit.nodes[0].votes),
        ("node-a", 3)
    );
    assert_eq!(audit.tally.total, 3);

    let first: PollList = app.get_json("/api/polls?limit=3").await;
    let listed: Vec<_> = first.polls.iter().map(|p| p.poll.id.to_string()).collect();
    assert_eq!(listed, [ids[4].clone(), ids[3].clone(), ids[2].clone()]);
    assert_eq!(first.polls[0].total, 3);
    let next = first.next.expect("a second page");
    let second: PollList = app
        .get_json(&format!("/api/polls?limit=3&before={next}"))
        .await;
    let listed: Vec<_> = second.polls.iter().map(|p| p.poll.id.to_string()).collect();
    assert_eq!(listed, [ids[1].clone(), ids[0].clone()]);
    assert!(second.next.is_none());
}

#[tokio::test]
async fn every_response_names_the_node_carries_the_security_headers_and_the_service_endpoints_answer()
 {
    let app = spawn_app().await;
    for (path, status) in [
        ("/healthz", 200),
        ("/readyz", 200),
        ("/metrics", 200),
        ("/api/openapi.json", 200),
        ("/api/cluster", 200),
        ("/api/nope", 404),
        ("/", 200),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), status, "{path}");
        let headers = response.headers();
        assert_eq!(headers["x-votewire-node"], "node-a", "{path}");
        // The security headers, on pages and API answers alike.
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.starts_with("default-src 'self'"), "{path}: {policy}");
        assert!(
            policy.ends_with("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
    }
    let openapi: serde_json::Value = app.get_json("/api/openapi.json").await;
    for path in [
        "/api/polls",
        "/api/polls/{id}/votes",
        "/api/polls/{id}/close",
        "/api/voters",
        "/readyz",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "openapi lacks {path}");
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("votewire_http_request_duration_seconds_count{route=\"/healthz\""),
        "{metrics}"
    );
}
