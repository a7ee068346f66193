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

#[tokio::test]
async fn pwa_files_are_served_with_their_content_types() {
    for (path, expected) in [
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/sw.js", "text/javascript"),
        ("/icons/icon-192.png", "image/png"),
        ("/icons/icon-512.png", "image/png"),
        ("/icons/icon.svg", "image/svg+xml"),
    ] {
        let (status, ctype, _) = get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(ctype.as_deref(), Some(expected), "{path}");
    }
    let (_, _, manifest) = get("/manifest.webmanifest").await;
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["share_target"]["action"], "/share");
    assert_eq!(manifest["display"], "standalone");
    let (_, _, index) = get("/").await;
    assert!(index.contains(r#"<link rel="manifest" href="manifest.webmanifest">"#));
}

#[tokio::test]
async fn pages_may_load_their_manifest_and_service_worker_and_nothing_else() {
    let res = app(AppState::new(&Config::default()))
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    for directive in [
        "default-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
}

#[tokio::test]
async fn share_without_a_service_worker_is_sent_to_the_app() {
    let res = app(AppState::new(&Config::default()))
        .oneshot(
            Request::post("/share")
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
                .body(Body::from(
                    "--XyZ\r\nContent-Disposition: form-data; name=\"files\"; \
                     filename=\"a.txt\"\r\n\r\nhello\r\n--XyZ--\r\n",
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/");
}
