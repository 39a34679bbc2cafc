//! Join codes and unlisted polls through a real node: every new poll gets a code that
//! `GET /api/join/{code}` resolves however people type it, and an unlisted poll stays
//! off `GET /api/polls` while its link and code still work.

use serde_json::json;
use votewire_proto::{CreatedPoll, ErrorCode, PollList, PollView};
use votewire_testkit::{TestApp, spawn_app};

use crate::errors::expect_error;

async fn create(app: &TestApp, question: &str, listed: Option<bool>) -> CreatedPoll {
    let mut body = json!({ "question": question, "options": ["a", "b"] });
    if let Some(listed) = listed {
        body["listed"] = json!(listed);
    }
    let response = app.post("/api/polls", &body).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_join_code_finds_its_poll_in_any_case_and_spacing_listed_or_not() {
    let app = spawn_app().await;
    let listed = create(&app, "Listed?", None).await;
    let unlisted = create(&app, "Unlisted?", Some(false)).await;
    assert!(listed.poll.listed && !unlisted.poll.listed);
    let code = unlisted
        .poll
        .join_code
        .clone()
        .expect("every new poll has a code");
    assert_eq!(code.len(), 6);
    assert!(
        code.bytes()
            .all(|b| b"23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(&b)),
        "{code}"
    );
    assert_ne!(listed.poll.join_code.as_deref(), Some(code.as_str()));

    let page: PollList = app.get("/api/polls").await.json().await.unwrap();
    let ids: Vec<_> = page.polls.iter().map(|item| item.poll.id.clone()).collect();
    assert!(ids.contains(&listed.poll.id), "{ids:?}");
    assert!(
        !ids.contains(&unlisted.poll.id),
        "an unlisted poll is not listed"
    );

    let typed = format!("{}-{}", &code[..3].to_lowercase(), &code[3..]);
    let response = app.get(&format!("/api/join/{typed}")).await;
    assert_eq!(response.status(), 200);
    let view: PollView = response.json().await.unwrap();
    assert_eq!(view.poll, unlisted.poll);
    assert_eq!(view.tally.total, 0);
    // Its own page works as ever.
    assert_eq!(
        app.get_poll(unlisted.poll.id.as_str()).await.poll.id,
        unlisted.poll.id
    );
}

#[tokio::test]
async fn a_code_of_no_poll_is_404_and_one_that_cannot_be_a_code_is_400() {
    let app = spawn_app().await;
    let created = create(&app, "Which?", None).await;
    let code = created.poll.join_code.unwrap();
    // The same alphabet, another code: "2" and "3" swapped in, unless that is the code.
    let other = if code == "222222" { "333333" } else { "222222" };
    let body = expect_error(
        app.get(&format!("/api/join/{other}")).await,
        404,
        ErrorCode::PollNotFound,
    )
    .await;
    assert!(body.error.message.contains(other), "{}", body.error.message);
    for wrong in ["ABC", "K7P2Q0", "KIP2QX", "K7P2QXZ"] {
        expect_error(
            app.get(&format!("/api/join/{wrong}")).await,
            400,
            ErrorCode::InvalidJoinCode,
        )
        .await;
    }
}
