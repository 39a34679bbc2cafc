//! The OpenAPI document a real node serves passes a real validator,
//! `openapi-spec-validator` (Python; `./build.sh` installs the pinned version), so
//! clients generated from it and schemathesis (`./build.sh test`) can trust it.

use std::process::Command;

use votewire_testkit::{TempDir, spawn_app};

#[tokio::test]
async fn the_served_openapi_document_is_valid_openapi() {
    let app = spawn_app().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let dir = TempDir::new("openapi");
    let file = dir.0.join("openapi.json");
    std::fs::write(&file, response.bytes().await.unwrap()).unwrap();
    let checked = Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .expect("python3 runs (./build.sh installs what this test needs)");
    assert!(
        checked.status.success(),
        "the document does not validate (or the validator is missing: `./build.sh check` \
         installs it):\n{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[tokio::test]
async fn the_docs_page_renders_the_document_from_this_node_alone() {
    let app = spawn_app().await;
    let page = app.get("/api/docs").await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for file in ["/api/docs.js", "/api/docs.css"] {
        assert!(html.contains(file), "the page loads {file}");
        let response = app.get(file).await;
        assert_eq!(response.status(), 200, "{file}");
        let text = response.text().await.unwrap();
        // Offline: nothing outside the node is fetched.
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{file}"
        );
    }
    assert!(
        !html.contains("https://") && !html.contains("<style"),
        "{html}"
    );
    let script = app.get("/api/docs.js").await.text().await.unwrap();
    assert!(
        script.contains("/api/openapi.json"),
        "the script reads the document"
    );
    app.stop().await;
}
