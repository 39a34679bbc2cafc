//! The web client's files: the precompressed copy the browser accepts (brotli, then
//! gzip, else the file itself), hashed assets cached for a year, everything else
//! revalidated, and a missing asset a 404 rather than the page.

use votewire_testkit::{TempDir, TestApp, spawn_app_with};

const SCRIPT: &str = "export const vote = () => 1;\n";

/// A node serving a client folder with one hashed asset and its compressed copies
/// (stand-ins: the node serves what is there, it does not compress).
async fn app_with_client() -> (TestApp, TempDir) {
    let client = TempDir::new("web-client");
    std::fs::create_dir_all(client.0.join("assets")).unwrap();
    std::fs::write(
        client.0.join("index.html"),
        "<!doctype html><title>votewire</title>",
    )
    .unwrap();
    let asset = client.0.join("assets/index-abc123.js");
    std::fs::write(&asset, SCRIPT).unwrap();
    std::fs::write(asset.with_extension("js.br"), "brotli bytes").unwrap();
    std::fs::write(asset.with_extension("js.gz"), "gzip bytes").unwrap();
    let dir = client.0.clone();
    (spawn_app_with(|s| s.web_dir = dir).await, client)
}

async fn fetch(app: &TestApp, path: &str, accept: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn assets_go_out_precompressed_as_accepted_and_cached_for_a_year() {
    let (app, _client) = app_with_client().await;
    for (accept, encoding, body) in [
        (Some("gzip, deflate, br"), Some("br"), "brotli bytes"),
        (Some("gzip"), Some("gzip"), "gzip bytes"),
        (None, None, SCRIPT),
    ] {
        let response = fetch(&app, "/assets/index-abc123.js", accept).await;
        assert_eq!(response.status(), 200, "{accept:?}");
        let headers = response.headers().clone();
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "{accept:?}"
        );
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .contains("javascript"),
            "{headers:?}"
        );
        assert_eq!(response.text().await.unwrap(), body, "{accept:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn pages_are_revalidated_and_a_missing_asset_is_not_the_page() {
    let (app, _client) = app_with_client().await;
    let page = fetch(&app, "/p/some-poll", Some("gzip")).await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert!(page.text().await.unwrap().contains("<title>votewire"));
    let missing = fetch(&app, "/assets/index-gone.js", None).await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none());
    assert!(missing.text().await.unwrap().contains("not_found"));
    app.stop().await;
}
