//! HTTP routes: the embedded web app, `/healthz` and `/ws`.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{AppState, assets, ws};

/// Headers for every page: the app loads only its own scripts, and pages are never framed.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob:; \
                   object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| asset("index.html".to_owned())))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/ws", get(ws::upgrade))
        .route("/{*path}", get(|Path(path): Path<String>| asset(path)))
        .with_state(state)
}

async fn asset(path: String) -> Response {
    let Some(file) = assets::Web::get(&path) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let mut res = Response::new(Body::from(file.data));
    let headers = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}
