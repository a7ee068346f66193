//! HTTP routes through `app()` with `oneshot`: the embedded web app and health check.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail the test on any error"
)]

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use pairwise_server::{AppState, Config, app};
use tower::ServiceExt;

async fn get(path: &str) -> (StatusCode, Option<String>, String) {
    let res = app(AppState::new(&Config::default()))
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = to_bytes(res.into_body(), 1 << 24).await.unwrap();
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn health_says_ok() {
    let (status, _, body) = get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok\n");
}

#[tokio::test]
async fn index_and_modules_are_served_from_the_embedded_web_app() {
    let (status, ctype, body) = get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.unwrap().starts_with("text/html"));
    assert!(body.contains("app.js"), "index.html loads the app module");
    let (status, ctype, _) = get("/app.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.unwrap().contains("javascript"));
}

#[tokio::test]
async fn tests_and_unknown_paths_are_not_served() {
    for path in [
        "/test/link.test.js",
        "/nope.js",
        "/tsconfig.json",
        "/../Cargo.toml",
    ] {
        let (status, _, _) = get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}
