//! The HTTP surface: plain axum routes (health, metrics, later the REST API) next to the
//! Leptos pages and server functions, and the middleware every request passes.

mod api;

/// The REST API's OpenAPI document (for the `/api/docs` page).
pub fn api_document() -> serde_json::Value {
    api::openapi::spec().clone()
}
mod csrf;
mod discord;
mod health;
mod hooks;
mod metrics;
mod oauth;
pub mod request_context;

use std::any::Any;

use axum::{
    body::Body,
    http::{header, Response, StatusCode},
    middleware,
    routing::{get, post},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use tower_http::catch_panic::CatchPanicLayer;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use super::{auth::session_store::RedisSessionStore, AppState};
use crate::app::{shell, App, HttpStatus};

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let page_context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            let response = leptos::prelude::use_context::<ResponseOptions>();
            provide_context(HttpStatus::new(move |code| {
                if let (Some(response), Ok(status)) = (&response, StatusCode::from_u16(code)) {
                    response.set_status(status);
                }
            }));
        }
    };
    let options = state.leptos_options.clone();

    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .route("/robots.txt", get(robots))
        .route("/auth/{slug}/start", get(oauth::start))
        .route("/auth/{slug}/callback", get(oauth::callback))
        .route("/discord/linked-role", get(discord::linked_role))
        .route("/discord/interactions", post(discord::interactions))
        .route(
            "/hooks/github/{id}",
            post(hooks::github).layer(axum::extract::DefaultBodyLimit::max(
                hooks::GITHUB_BODY_LIMIT,
            )),
        )
        .route("/hooks/deploy/{id}", post(hooks::deploy))
        .merge(api::router().0)
        // Unknown API paths answer in the API's error format, not with the 404 page.
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { crate::error::AppError::NotFound }),
        )
        .leptos_routes_with_context(&state, routes, page_context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(page_context, shell))
        .route_layer(middleware::from_fn(request_context::tag_route))
        .layer(session_layer(&state))
        .layer(middleware::from_fn(csrf::check_origin))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(request_context::track))
        .with_state(state)
}

/// A control panel has nothing for search engines to index.
async fn robots() -> ([(header::HeaderName, &'static str); 1], &'static str) {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "User-agent: *\nDisallow: /\n",
    )
}

/// Server-side sessions in Redis. The cookie is only set once something is stored.
fn session_layer(state: &AppState) -> SessionManagerLayer<RedisSessionStore> {
    let production = state.config.is_production();
    SessionManagerLayer::new(state.sessions.clone())
        // `__Host-` makes browsers refuse the cookie unless Secure, host-only and Path=/.
        .with_name(if production {
            "__Host-slipway"
        } else {
            "slipway"
        })
        .with_secure(production)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::try_from(state.config.session_idle_timeout)
                .unwrap_or(tower_sessions::cookie::time::Duration::hours(12)),
        ))
}

/// A handler that panicked still gets an answer in the app's look, never a dropped connection.
fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    tracing::error!("request handler panicked");
    Response::builder()
        .status(StatusCode::INTERNAL_SERVER_ERROR)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(PANIC_PAGE))
        .expect("static response is valid")
}

const PANIC_PAGE: &str = r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Something went wrong · Slipway</title><link rel="stylesheet" href="/pkg/slipway.css"></head><body class="min-h-screen bg-slate-50 text-slate-900 dark:bg-slate-950 dark:text-slate-100"><main class="mx-auto max-w-lg py-16 text-center"><p class="text-sm font-semibold text-rose-600">500</p><h1 class="mt-2 text-3xl font-bold tracking-tight">Something went wrong</h1><p class="mt-4 text-slate-600">The error was logged. Try again in a moment.</p><a href="/" class="mt-8 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white">Back to the overview</a></main></body></html>"#;
