//! A local stand-in for the two parts of Cloudflare's v4 API that Slipway uses, written from
//! the public API documentation: DNS records of a zone (`/zones/{zone}/dns_records`) and the
//! configuration of a remotely-managed tunnel (`/accounts/{account}/cfd_tunnel/{tunnel}/
//! configurations`). Every answer is the v4 envelope `{success, errors, messages, result}`;
//! a request without the right `Authorization: Bearer` token gets code 10000. Tests read what
//! it holds and make calls fail with the API's error shape.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{delete, get},
    Json, Router,
};
use serde_json::{json, Value};

pub const TOKEN: &str = "cf-standin-token-7c1d9e";
pub const ACCOUNT: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const ZONE: &str = "9a7806061c88ada191ed06f989cc3dac";
pub const TUNNEL: &str = "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415";

/// A failure to answer with instead of doing the call.
#[derive(Clone)]
struct Fault {
    method: Method,
    path_contains: String,
    status: StatusCode,
    code: u32,
    message: String,
}

#[derive(Default)]
struct Inner {
    config: Value,
    version: u64,
    records: Vec<Value>,
    faults: Vec<Fault>,
    /// How long reading the tunnel configuration takes, to widen race windows.
    read_delay: std::time::Duration,
    /// Method and path of every call that reached it, in order.
    calls: Vec<(String, String)>,
    next_id: u64,
}

type Shared = Arc<Mutex<Inner>>;

pub struct CloudflareStandIn {
    pub addr: SocketAddr,
    inner: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for CloudflareStandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl CloudflareStandIn {
    /// Starts with the tunnel configuration `config` (the `config` object, or `null` for a
    /// tunnel never configured) and the zone's `records`.
    pub async fn start(config: Value, records: Vec<Value>) -> Self {
        let inner: Shared = Arc::new(Mutex::new(Inner {
            config,
            version: 1,
            next_id: 1,
            ..Inner::default()
        }));
        {
            let mut state = inner.lock().unwrap();
            let seeded: Vec<Value> = records
                .into_iter()
                .map(|r| {
                    let id = state.new_id();
                    record(&id, &r)
                })
                .collect();
            state.records = seeded;
        }
        let app = Router::new()
            .route(
                "/client/v4/accounts/{account}/cfd_tunnel/{tunnel}/configurations",
                get(get_configuration).put(put_configuration),
            )
            .route(
                "/client/v4/zones/{zone}/dns_records",
                get(list_records).post(create_record),
            )
            .route(
                "/client/v4/zones/{zone}/dns_records/{id}",
                delete(delete_record),
            )
            .fallback(|| async { failure(StatusCode::NOT_FOUND, 7000, "No route for that URI") })
            .layer(axum::middleware::from_fn_with_state(inner.clone(), gate))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            inner,
            server,
        }
    }

    pub fn api_base(&self) -> String {
        format!("http://{}/client/v4", self.addr)
    }

    /// The settings that point Slipway at this stand-in.
    pub fn settings(&self) -> [(&'static str, String); 5] {
        [
            ("CLOUDFLARE_API_BASE", self.api_base()),
            ("CLOUDFLARE_API_TOKEN", TOKEN.into()),
            ("CLOUDFLARE_ACCOUNT_ID", ACCOUNT.into()),
            ("CLOUDFLARE_TUNNEL_ID", TUNNEL.into()),
            ("CLOUDFLARE_ZONE_ID", ZONE.into()),
        ]
    }

    pub fn config(&self) -> Value {
        self.inner.lock().unwrap().config.clone()
    }

    pub fn ingress(&self) -> Vec<Value> {
        self.config()["ingress"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn records(&self) -> Vec<Value> {
        self.inner.lock().unwrap().records.clone()
    }

    /// How many calls of `method` reached a path containing `path_contains`.
    pub fn calls(&self, method: &str, path_contains: &str) -> usize {
        self.inner
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|(m, p)| m == method && p.contains(path_contains))
            .count()
    }

    /// From now on, `method` calls to paths containing `path_contains` fail with this error.
    pub fn fail(&self, method: Method, path_contains: &str, status: u16, code: u32, message: &str) {
        self.inner.lock().unwrap().faults.push(Fault {
            method,
            path_contains: path_contains.into(),
            status: StatusCode::from_u16(status).unwrap(),
            code,
            message: message.into(),
        });
    }

    /// Every read of the tunnel configuration takes this long from now on.
    pub fn slow_reads(&self, delay: std::time::Duration) {
        self.inner.lock().unwrap().read_delay = delay;
    }

    /// Someone changed the configuration in the dashboard.
    pub fn replace_config(&self, config: Value) {
        let mut state = self.inner.lock().unwrap();
        state.config = config;
        state.version += 1;
    }

    pub fn heal(&self) {
        self.inner.lock().unwrap().faults.clear();
    }
}

impl Inner {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:032x}", 0x5117_0000_u64 + self.next_id)
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A DNS record as the API returns it today (no `zone_id`, `zone_name` or `locked`, which it
/// has dropped), from the fields a client sends.
fn record(id: &str, fields: &Value) -> Value {
    let at = now();
    json!({
        "id": id,
        "name": fields["name"].as_str().unwrap_or_default().to_ascii_lowercase(),
        "type": fields["type"],
        "content": fields["content"],
        "proxiable": true,
        "proxied": fields["proxied"].as_bool().unwrap_or(false),
        "ttl": fields["ttl"].as_u64().unwrap_or(1),
        "settings": {},
        "meta": {},
        "comment": fields.get("comment").cloned().unwrap_or(Value::Null),
        "tags": [],
        "created_on": at,
        "modified_on": at,
    })
}

fn success(result: Value) -> Response {
    Json(json!({ "success": true, "errors": [], "messages": [], "result": result })).into_response()
}

fn failure(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({
            "success": false,
            "errors": [{ "code": code, "message": message }],
            "messages": [],
            "result": null,
        })),
    )
        .into_response()
}

/// Authentication, the call log and injected faults, before any handler.
async fn gate(
    State(inner): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let authorized = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        == Some(format!("Bearer {TOKEN}").as_str());
    if !authorized {
        return failure(StatusCode::FORBIDDEN, 10000, "Authentication error");
    }
    let fault = {
        let mut state = inner.lock().unwrap();
        state
            .calls
            .push((method.to_string(), uri.path().to_owned()));
        state
            .faults
            .iter()
            .find(|f| f.method == method && uri.path().contains(&f.path_contains))
            .cloned()
    };
    match fault {
        Some(f) => failure(f.status, f.code, &f.message),
        None => next.run(request).await,
    }
}

/// What the API answers for an id that names no zone of the account.
fn unknown_zone() -> Response {
    failure(
        StatusCode::NOT_FOUND,
        7003,
        "Could not route to /zones/…/dns_records, perhaps your object identifier is invalid?",
    )
}

fn tunnel_exists(account: &str, tunnel: &str) -> bool {
    account == ACCOUNT && tunnel == TUNNEL
}

async fn get_configuration(
    State(inner): State<Shared>,
    Path((account, tunnel)): Path<(String, String)>,
) -> Response {
    if !tunnel_exists(&account, &tunnel) {
        return failure(StatusCode::NOT_FOUND, 1003, "Tunnel not found");
    }
    let delay = inner.lock().unwrap().read_delay;
    tokio::time::sleep(delay).await;
    let state = inner.lock().unwrap();
    success(json!({
        "account_id": ACCOUNT,
        "tunnel_id": TUNNEL,
        "version": state.version,
        "config": state.config,
        "source": "cloudflare",
        "created_at": now(),
    }))
}

async fn put_configuration(
    State(inner): State<Shared>,
    Path((account, tunnel)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if !tunnel_exists(&account, &tunnel) {
        return failure(StatusCode::NOT_FOUND, 1003, "Tunnel not found");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return failure(StatusCode::BAD_REQUEST, 1001, "Invalid JSON body");
    };
    let config = body["config"].clone();
    let Some(ingress) = config["ingress"].as_array() else {
        return failure(StatusCode::BAD_REQUEST, 1055, "config.ingress is required");
    };
    // cloudflared's own rules for an ingress list.
    if ingress.iter().any(|r| !r["service"].is_string()) {
        return failure(
            StatusCode::BAD_REQUEST,
            1055,
            "Validation failed: every ingress rule needs a service",
        );
    }
    let catch_all = |r: &Value| {
        r["hostname"].as_str().is_none_or(str::is_empty)
            && r["path"].as_str().is_none_or(str::is_empty)
    };
    if !ingress.last().is_some_and(catch_all) {
        return failure(
            StatusCode::BAD_REQUEST,
            1055,
            "Validation failed: The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)",
        );
    }
    let mut state = inner.lock().unwrap();
    state.config = config;
    state.version += 1;
    success(json!({
        "account_id": ACCOUNT,
        "tunnel_id": TUNNEL,
        "version": state.version,
        "config": state.config,
        "source": "cloudflare",
        "created_at": now(),
    }))
}

async fn list_records(
    State(inner): State<Shared>,
    Path(zone): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if zone != ZONE {
        return unknown_zone();
    }
    let state = inner.lock().unwrap();
    let matches = |r: &Value, field: &str, key: &str| {
        query.get(key).is_none_or(|want| {
            r[field]
                .as_str()
                .is_some_and(|have| have.eq_ignore_ascii_case(want))
        })
    };
    let found: Vec<Value> = state
        .records
        .iter()
        .filter(|r| {
            matches(r, "type", "type")
                && matches(r, "name", "name")
                && matches(r, "name", "name.exact")
                && matches(r, "content", "content")
        })
        .cloned()
        .collect();
    let per_page: usize = query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(100);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let total = found.len();
    let slice: Vec<Value> = found
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    Json(json!({
        "success": true,
        "errors": [],
        "messages": [],
        "result_info": {
            "page": page,
            "per_page": per_page,
            "count": slice.len(),
            "total_count": total,
            "total_pages": total.div_ceil(per_page.max(1)),
        },
        "result": slice,
    }))
    .into_response()
}

async fn create_record(
    State(inner): State<Shared>,
    Path(zone): Path<String>,
    body: Bytes,
) -> Response {
    if zone != ZONE {
        return unknown_zone();
    }
    let Ok(fields) = serde_json::from_slice::<Value>(&body) else {
        return failure(StatusCode::BAD_REQUEST, 9207, "Request body is invalid.");
    };
    let (Some(kind), Some(name), Some(_)) = (
        fields["type"].as_str(),
        fields["name"].as_str(),
        fields["content"].as_str(),
    ) else {
        return failure(
            StatusCode::BAD_REQUEST,
            9000,
            "DNS name, type and content are required.",
        );
    };
    let mut state = inner.lock().unwrap();
    let clash = state.records.iter().any(|r| {
        r["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && (kind == "CNAME"
                || matches!(r["type"].as_str(), Some("CNAME")) && matches!(kind, "A" | "AAAA"))
    });
    if clash {
        return failure(
            StatusCode::BAD_REQUEST,
            81053,
            "An A, AAAA, or CNAME record with that host already exists.",
        );
    }
    let id = state.new_id();
    let created = record(&id, &fields);
    state.records.push(created.clone());
    success(created)
}

async fn delete_record(
    State(inner): State<Shared>,
    Path((zone, id)): Path<(String, String)>,
) -> Response {
    if zone != ZONE {
        return unknown_zone();
    }
    let mut state = inner.lock().unwrap();
    let before = state.records.len();
    state.records.retain(|r| r["id"] != id.as_str());
    if state.records.len() == before {
        return failure(StatusCode::NOT_FOUND, 81044, "Record does not exist.");
    }
    success(json!({ "id": id }))
}
