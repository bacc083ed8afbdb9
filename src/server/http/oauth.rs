//! `GET /auth/{slug}/start` and `GET /auth/{slug}/callback`: plain redirects around the
//! provider's pages, with the browser-binding cookie of a sign-in in progress.

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use crate::{
    error::AppError,
    server::{
        auth::{
            oauth::flow::{self, CallbackQuery, Cookie, Intent, StartRequest, Step},
            service::Client,
        },
        AppState,
    },
};

#[derive(Deserialize)]
pub struct StartParams {
    next: Option<String>,
    intent: Option<String>,
    invite: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Query(params): Query<StartParams>,
) -> Result<Response, AppError> {
    let Some(intent) = Intent::parse(params.intent.as_deref()) else {
        return Err(AppError::field("intent", "must be login, link or reauth"));
    };
    let step = flow::start(
        &state,
        &session,
        &slug,
        StartRequest {
            intent,
            next: params.next,
            invite: params.invite,
        },
    )
    .await?;
    Ok(redirect(&state, step))
}

pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    client: Client,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Query(params): Query<CallbackParams>,
) -> Result<Response, AppError> {
    let binding = cookie(&headers, cookie_name(&state));
    let step = flow::callback(
        &state,
        &session,
        &client,
        &slug,
        CallbackQuery {
            code: params.code,
            state: params.state,
            error: params.error,
            iss: params.iss,
        },
        binding.as_deref(),
    )
    .await?;
    Ok(redirect(&state, step))
}

/// `__Host-` in production: browsers then refuse it unless Secure, host-only and `Path=/`,
/// so a deployed app on a sibling subdomain cannot plant one.
fn cookie_name(state: &AppState) -> &'static str {
    if state.config.is_production() {
        "__Host-slipway_oauth"
    } else {
        "slipway_oauth"
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(super) fn redirect(state: &AppState, step: Step) -> Response {
    let secure = if state.config.is_production() {
        "; Secure"
    } else {
        ""
    };
    let name = cookie_name(state);
    // SameSite=Lax, not Strict: the provider's redirect back is a cross-site navigation, on
    // which Strict cookies are not sent.
    let set_cookie = match step.cookie {
        Cookie::Keep => None,
        Cookie::Bind(value) => Some(format!(
            "{name}={value}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            flow::PENDING_TTL_SECS
        )),
        Cookie::Clear => Some(format!(
            "{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}"
        )),
    };
    let mut response =
        (StatusCode::SEE_OTHER, [(header::CACHE_CONTROL, "no-store")]).into_response();
    match HeaderValue::from_str(&step.location) {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Err(_) => {
            return AppError::BadRequest {
                message: "bad redirect".into(),
            }
            .into_response()
        }
    }
    if let Some(value) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
