//! The OpenAPI document of `/api/v1`, generated from the handlers' `#[utoipa::path]`s and the
//! DTO types, served at `/api/v1/openapi.json` and read by the `/api/docs` page.

use std::sync::OnceLock;

use axum::Json;
use serde_json::Value;
use utoipa::{
    openapi::{
        path::Operation,
        security::{
            ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
        },
        Content, Ref, RefOr, Response, ResponseBuilder,
    },
    Modify, OpenApi,
};

use crate::server::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Slipway API",
        description = "Deploy Git repositories as containers behind nginx, from scripts and CI. \
            Authenticate with a personal API token (`Authorization: Bearer slp_…`, made on the \
            account page) or, from a browser, the session cookie. Every error is \
            `{\"error\": {\"code\", \"message\", \"fields\"?}}`.",
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
    tags(
        (name = "account", description = "Signing in, my account, sessions and tokens"),
        (name = "deployments", description = "Apps built from Git and kept running"),
        (name = "webhooks", description = "Push webhooks that redeploy"),
        (name = "live", description = "Live logs and state changes (Server-Sent Events)"),
        (name = "admin", description = "Accounts, sign-in providers, registration and the audit log"),
        (name = "discord", description = "Discord Linked Roles and slash commands"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Session cookie or bearer token, for every operation that does not say otherwise.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut cookie = ApiKeyValue::new("slipway");
        cookie.description = Some(
            "The session cookie a sign-in sets (`__Host-slipway` in production). State-changing \
             requests with it must come from Slipway's own pages (Origin check)."
                .into(),
        );
        components.add_security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("A personal API token: `Authorization: Bearer slp_…`".into());
        components.add_security_scheme("token", SecurityScheme::Http(bearer));
        openapi.security = Some(vec![
            SecurityRequirement::new("session", Vec::<String>::new()),
            SecurityRequirement::new("token", Vec::<String>::new()),
        ]);
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .into()
}

/// Adds the answers every operation can give, from the same rules the middleware applies:
/// 500 everywhere; 401 where a caller is needed; 403 for state changes from another site
/// (the Origin check); 400 where a JSON body is read.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations: [(&str, &mut Option<Operation>); 5] = [
            ("get", &mut item.get),
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
            ("delete", &mut item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            // Handler names repeat across modules (`list`, `get`): the tag makes them unique.
            if let (Some(id), Some(tag)) = (
                operation.operation_id.as_mut(),
                operation.tags.as_ref().and_then(|t| t.first()),
            ) {
                *id = format!("{tag}_{id}");
            }
            let responses = &mut operation.responses.responses;
            responses
                .entry("500".into())
                .or_insert_with(|| error_response("Something went wrong on Slipway's side; the message carries a reference to its log"));
            let public = operation
                .security
                .as_ref()
                .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
            if !public {
                responses.entry("401".into()).or_insert_with(|| {
                    error_response("Not signed in, or the token is unknown or revoked")
                });
            }
            if method != "get" {
                const CROSS_SITE: &str = "A cross-site request (browsers: the Origin check)";
                match responses.get_mut("403") {
                    Some(RefOr::T(existing)) => {
                        existing.description =
                            format!("{}; or: {CROSS_SITE}", existing.description);
                    }
                    _ => {
                        responses.insert("403".into(), error_response(CROSS_SITE));
                    }
                }
            }
            if operation.request_body.is_some() {
                responses
                    .entry("400".into())
                    .or_insert_with(|| error_response("The body is not JSON of the right shape"));
            }
        }
    }
}

/// The document as JSON, made once per process.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::to_value(super::router().1).unwrap_or(Value::Null))
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    summary = "This OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
    security(()),
)]
pub async fn document() -> Json<Value> {
    Json(spec().clone())
}
