//! Cross-site request forgery defence for every state-changing request, server functions
//! included: they accept form encoding, which browsers send cross-site without a preflight.
//! SameSite=Lax cookies stop most of it; the Origin check stops the rest.

use axum::{
    extract::Request,
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::AppError;

pub async fn check_origin(req: Request, next: Next) -> Response {
    if is_cross_site(&req) {
        tracing::warn!(method = %req.method(), path = %req.uri().path(), "cross-site request refused");
        return AppError::forbidden("Cross-site request refused.").into_response();
    }
    next.run(req).await
}

fn is_cross_site(req: &Request) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = req.headers();
    // A bearer token is not sent by browsers on their own, so it cannot be forged cross-site.
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
    {
        return false;
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        // No Origin: not a browser, or a browser making a same-origin GET-like request.
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority);
    // "null" (sandboxed frames, some redirects) and anything naming another host are refused.
    origin_authority.is_none() || origin_authority != host
}
