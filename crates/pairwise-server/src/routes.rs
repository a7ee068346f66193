//! HTTP routes: the embedded web app, `/healthz`, `/readyz`, `/metrics`, `/ws`, and
//! `POST /share` (the PWA share target's fallback when no service worker took the request).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::{AppState, assets, hosts, ws};

/// Headers for every page: the app loads only its own scripts, manifest and service worker,
/// and pages are never framed.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob:; \
                   manifest-src 'self'; worker-src 'self'; object-src 'none'; \
                   base-uri 'none'; frame-ancestors 'none'";

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| asset("index.html".to_owned())))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/ws", get(ws::upgrade))
        .route("/share", post(share_without_worker))
        .route("/{*path}", get(|Path(path): Path<String>| asset(path)))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hosts::check_host,
        ))
        .with_state(state)
}

/// `GET /readyz`: 200 while the server takes new clients, 503 once it drains or while its
/// rooms are out of reach (Redis down): a balancer then sends new clients elsewhere.
/// `/healthz` stays 200 while the process runs.
async fn ready(State(state): State<AppState>) -> Response {
    if state.draining.is_cancelled() {
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response()
    } else if !state.rooms.ready() {
        (StatusCode::SERVICE_UNAVAILABLE, "redis unavailable\n").into_response()
    } else {
        "ready\n".into_response()
    }
}

/// `GET /metrics`: the counters in Prometheus text format, to clients on this machine only
/// (a scraper on the host, or through a proxy that limits who reaches it): counts of rooms and
/// relayed bytes tell an outsider about traffic.
async fn metrics(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
) -> Response {
    if peer.is_some_and(|p| !p.0.0.ip().is_loopback()) {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state
            .metrics
            .render(state.rooms.len(), state.rooms.redis_stats()),
    )
        .into_response()
}

/// `POST /share`: the share target (see `web/manifest.webmanifest`) is normally answered by the
/// service worker, which keeps the shared files. Without one (its first visit, or a browser
/// without service workers) the files cannot be kept here: the server never sees user files.
/// The body is not read; the browser is sent to the app.
async fn share_without_worker() -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response()
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
