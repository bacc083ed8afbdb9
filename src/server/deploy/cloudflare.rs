//! The Cloudflare side of routing: per deployment, one ingress rule `<host> →
//! http://127.0.0.1:<nginx port>` in a remotely-managed tunnel's configuration and one
//! proxied CNAME `<host> → <tunnel id>.cfargotunnel.com`, marked as Slipway's in its comment.
//!
//! Calls go through the cloudflare crate's client, which speaks the v4 envelope. Deleting a
//! record uses the crate's endpoint; the crate has no endpoint for tunnel configurations, and
//! its DNS record type neither sends a comment nor survives fields Cloudflare drops, so those
//! endpoints are declared here, decoding only what Slipway reads.
//!
//! The configuration is one document shared with whatever else the operator routes through
//! the tunnel. It is read, changed and written back as plain JSON, so fields Slipway does not
//! model (other rules' `originRequest`, `warp-routing`…) survive untouched, and every change is
//! made under a PostgreSQL advisory lock ([`Cloudflare::lock`]) so that two Slipway processes
//! never write over each other's rules.

use std::{collections::HashMap, time::Duration};

use cloudflare::{
    endpoints::dns::dns::DeleteDnsRecord,
    framework::{
        auth::Credentials,
        client::{async_api::Client, ClientConfig},
        endpoint::{spec::EndpointSpec, Method, RequestBody},
        response::{ApiFailure, ApiResult, ApiSuccess, ResponseConverter},
        Environment,
    },
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::server::config::{CloudflareSettings, Config};

/// Any constant works as long as nothing else locks it: "slipway\x01" as bytes.
const CONFIG_LOCK: i64 = 0x736c_6970_7761_7901;
/// The rule cloudflared needs last when the configuration had none.
const CATCH_ALL: &str = "http_status:404";
const PAGE: u32 = 500;

pub struct Cloudflare {
    client: Client,
    account_id: String,
    tunnel_id: String,
    zone_id: String,
    /// Where cloudflared sends a routed host's requests: nginx, which picks the vhost by Host.
    origin: String,
    /// What a routed host's CNAME points at.
    target: String,
    db: PgPool,
    /// One change at a time in this process, so only one pool connection waits on the lock.
    local: tokio::sync::Mutex<()>,
}

/// What Slipway made for one deployment, as recorded on its row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Made {
    /// The ingress rule: host name and service.
    pub rule: Option<(String, String)>,
    pub record: Option<String>,
}

/// What exists in Cloudflare for a host name right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub rule: bool,
    pub record: Option<String>,
}

/// One read of the tunnel and the zone: the tunnel's host rules (host → service) and the
/// CNAMEs that point at the tunnel.
pub struct Snapshot {
    pub rules: HashMap<String, String>,
    pub records: Vec<Record>,
}

/// The comment that marks a DNS record as made by Slipway for a deployment.
pub fn marker(deployment: Uuid) -> String {
    format!("slipway:{deployment}")
}

impl Cloudflare {
    pub fn new(config: &Config, settings: &CloudflareSettings, db: PgPool) -> Result<Self, String> {
        let client = Client::new(
            Credentials::UserAuthToken {
                token: settings.api_token.clone(),
            },
            ClientConfig {
                http_timeout: Duration::from_secs(20),
                ..ClientConfig::default()
            },
            Environment::Custom(settings.api_base.clone()),
        )
        .map_err(|e| format!("the Cloudflare API client cannot be set up: {e}"))?;
        let origin = match config.nginx_listen_addr {
            Some(std::net::IpAddr::V4(ip)) if !ip.is_unspecified() => {
                format!("http://{ip}:{}", config.nginx_listen_port)
            }
            Some(std::net::IpAddr::V6(ip)) if !ip.is_unspecified() => {
                format!("http://[{ip}]:{}", config.nginx_listen_port)
            }
            _ => format!("http://127.0.0.1:{}", config.nginx_listen_port),
        };
        Ok(Self {
            client,
            account_id: settings.account_id.clone(),
            tunnel_id: settings.tunnel_id.clone(),
            zone_id: settings.zone_id.clone(),
            origin,
            target: format!("{}.cfargotunnel.com", settings.tunnel_id),
            db,
            local: tokio::sync::Mutex::new(()),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Holds the right to change the tunnel configuration and Slipway's records until the
    /// returned value is committed or dropped, in this process and every other one.
    pub async fn lock(&self) -> Result<Locked<'_>, String> {
        let local = self.local.lock().await;
        let unreachable = |e: sqlx::Error| format!("the database is not reachable: {e}");
        let mut tx = self.db.begin().await.map_err(unreachable)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CONFIG_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(unreachable)?;
        Ok(Locked {
            cf: self,
            tx,
            _local: local,
        })
    }

    /// What exists for the deployment's host right now: a rule to nginx, a CNAME of ours.
    pub async fn route(&self, deployment: Uuid, host: &str) -> Result<Route, String> {
        let mut config = self.configuration().await?;
        let rule = ingress_of(&mut config)
            .iter()
            .any(|r| hostname(r) == Some(host) && !has_path(r) && service(r) == Some(&self.origin));
        let mark = marker(deployment);
        let record = self
            .records_named(host)
            .await?
            .into_iter()
            .find(|r| r.is_ours(&mark, &self.target))
            .map(|r| r.id);
        Ok(Route { rule, record })
    }

    pub async fn snapshot(&self) -> Result<Snapshot, String> {
        let mut config = self.configuration().await?;
        let rules = ingress_of(&mut config)
            .iter()
            .filter(|r| !has_path(r))
            .filter_map(|r| Some((hostname(r)?.to_owned(), service(r)?.to_owned())))
            .collect();
        Ok(Snapshot {
            rules,
            records: self.tunnel_records().await?,
        })
    }

    /// Records named `host`, of any type.
    async fn records_named(&self, host: &str) -> Result<Vec<Record>, String> {
        self.list_records(&format!("name={host}")).await
    }

    /// Every CNAME that points at the tunnel.
    pub async fn tunnel_records(&self) -> Result<Vec<Record>, String> {
        self.list_records(&format!("type=CNAME&content={}", self.target))
            .await
    }

    async fn list_records(&self, filter: &str) -> Result<Vec<Record>, String> {
        let mut all = Vec::new();
        for page in 1..=100u32 {
            let got = self
                .call(
                    "list DNS records",
                    &ListRecords {
                        zone: &self.zone_id,
                        query: format!("{filter}&per_page={PAGE}&page={page}"),
                    },
                )
                .await?;
            let count = got.result.0.len();
            all.extend(got.result.0);
            let pages = got
                .result_info
                .as_ref()
                .and_then(|i| i.get("total_pages"))
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if u64::from(page) >= pages || count == 0 {
                break;
            }
        }
        Ok(all)
    }

    /// The tunnel's configuration document (`config`), empty when it never had one.
    async fn configuration(&self) -> Result<Map<String, Value>, String> {
        let got = self
            .call(
                "read the tunnel configuration",
                &TunnelConfiguration {
                    account: &self.account_id,
                    tunnel: &self.tunnel_id,
                    put: None,
                },
            )
            .await?;
        Ok(match got.result.config {
            Some(Value::Object(config)) => config,
            _ => Map::new(),
        })
    }

    async fn put_configuration(&self, config: Map<String, Value>) -> Result<(), String> {
        self.call(
            "update the tunnel configuration",
            &TunnelConfiguration {
                account: &self.account_id,
                tunnel: &self.tunnel_id,
                put: Some(json!({ "config": config }).to_string()),
            },
        )
        .await?;
        Ok(())
    }

    async fn delete_record(&self, id: &str) -> Result<(), String> {
        let deleted = self
            .call(
                "delete the DNS record",
                &DeleteDnsRecord {
                    zone_identifier: &self.zone_id,
                    identifier: id,
                },
            )
            .await;
        match deleted {
            Ok(_) => Ok(()),
            Err(e) if e.not_found => Ok(()), // already gone
            Err(e) => Err(e.message),
        }
    }

    async fn call<E>(&self, what: &str, endpoint: &E) -> Result<E::ResponseType, CallError>
    where
        E: EndpointSpec + Send + Sync,
        E::ResponseType: ResponseConverter<E::JsonResponse>,
    {
        let result = self.client.request(endpoint).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("cloudflare_api_requests_total", "outcome" => outcome).increment(1);
        result.map_err(|e| CallError::new(what, e))
    }
}

/// Changes made while [`Cloudflare::lock`] is held; `tx` is the locked transaction, for
/// recording what was made before the lock goes.
pub struct Locked<'a> {
    cf: &'a Cloudflare,
    pub tx: Transaction<'static, Postgres>,
    _local: tokio::sync::MutexGuard<'a, ()>,
}

impl Locked<'_> {
    pub async fn commit(self) -> Result<(), String> {
        self.tx
            .commit()
            .await
            .map_err(|e| format!("the database is not reachable: {e}"))
    }

    /// Makes the rule `host → nginx` and a CNAME of ours for `host`, replacing what Slipway
    /// made for the deployment under another host name or origin (BASE_DOMAIN or nginx's
    /// port changed). `made` says what exists when it returns, also when it fails part way.
    pub async fn ensure(
        &mut self,
        deployment: Uuid,
        host: &str,
        made: &mut Made,
    ) -> Result<(), String> {
        let cf = self.cf;
        let wanted = (host.to_owned(), cf.origin.clone());
        let mut config = cf.configuration().await?;
        let ingress = ingress_of(&mut config);
        let before = ingress.len();
        if let Some(previous) = made.rule.as_ref().filter(|p| **p != wanted) {
            ingress.retain(|r| !is_rule(r, previous));
        }
        let replaced = ingress.len() != before;
        match ingress
            .iter()
            .find(|r| hostname(r) == Some(host) && !has_path(r))
        {
            Some(rule) if service(rule) == Some(&cf.origin) => {
                if replaced {
                    cf.put_configuration(config).await?;
                }
            }
            Some(rule) => {
                return Err(format!(
                    "the tunnel already routes {host} to {} (a rule Slipway did not make); \
                     remove it in Cloudflare or pick another subdomain",
                    service(rule).unwrap_or("another service")
                ))
            }
            None => {
                let at = ingress
                    .iter()
                    .position(|r| hostname(r).is_none_or(|h| h.contains('*')))
                    .unwrap_or(ingress.len());
                ingress.insert(at, json!({ "hostname": host, "service": cf.origin }));
                if ingress.last().and_then(hostname).is_some() {
                    ingress.push(json!({ "service": CATCH_ALL }));
                }
                cf.put_configuration(config).await?;
            }
        }
        made.rule = Some(wanted);

        let mark = marker(deployment);
        let named = cf.records_named(host).await?;
        if let Some(old) = made.record.clone() {
            if !named.iter().any(|r| r.id == old) {
                cf.delete_record(&old).await?; // made for another host name
                made.record = None;
            }
        }
        if let Some(ours) = named.iter().find(|r| r.is_ours(&mark, &cf.target)) {
            made.record = Some(ours.id.clone());
            return Ok(());
        }
        if let Some(other) = named.first() {
            return Err(format!(
                "{host} already has a DNS record Slipway did not make ({} {}); \
                 remove it in Cloudflare or pick another subdomain",
                other.kind,
                other.content.as_deref().unwrap_or("")
            ));
        }
        let created = cf
            .call(
                "create the DNS record",
                &CreateRecord {
                    zone: &cf.zone_id,
                    body: json!({
                        "type": "CNAME",
                        "name": host,
                        "content": cf.target,
                        "proxied": true,
                        "ttl": 1,
                        "comment": format!("{mark} (made by Slipway; removed with the deployment)"),
                    })
                    .to_string(),
                },
            )
            .await?;
        made.record = Some(created.result.id);
        Ok(())
    }

    /// Removes the deployment's CNAMEs (the recorded one and any other carrying its marker)
    /// and its rule: the recorded one, or one routing `host` to nginx, made before a crash
    /// kept the record from being written. Nothing else. Each step is a no-op when done.
    pub async fn remove(
        &mut self,
        deployment: Uuid,
        host: &str,
        made: &mut Made,
    ) -> Result<(), String> {
        let cf = self.cf;
        let mark = marker(deployment);
        let mut ids: Vec<String> = made.record.iter().cloned().collect();
        for record in cf.tunnel_records().await? {
            if record.is_ours(&mark, &cf.target) && !ids.contains(&record.id) {
                ids.push(record.id);
            }
        }
        for id in &ids {
            cf.delete_record(id).await?;
        }
        made.record = None;

        let mut config = cf.configuration().await?;
        let ingress = ingress_of(&mut config);
        let before = ingress.len();
        let fallback = (host.to_owned(), cf.origin.clone());
        ingress.retain(|r| {
            !is_rule(r, made.rule.as_ref().unwrap_or(&fallback)) && !is_rule(r, &fallback)
        });
        if ingress.len() != before {
            cf.put_configuration(config).await?;
        }
        made.rule = None;
        Ok(())
    }
}

/// A failed call, with the API's own words.
#[derive(Debug)]
struct CallError {
    message: String,
    not_found: bool,
}

impl CallError {
    fn new(what: &str, failure: ApiFailure) -> Self {
        match failure {
            ApiFailure::Error(status, errors) => {
                let said: Vec<String> = errors
                    .errors
                    .iter()
                    .map(|e| format!("{} (code {})", e.message, e.code))
                    .collect();
                let message = if said.is_empty() {
                    format!("Cloudflare refused to {what}: HTTP {status}")
                } else {
                    format!("Cloudflare refused to {what}: {}", said.join("; "))
                };
                Self {
                    message,
                    not_found: status.as_u16() == 404,
                }
            }
            ApiFailure::Invalid(e) => {
                // The URL holds only ids, but the message reads better without it.
                let e = e.without_url();
                let mut message = format!("Cloudflare could not be asked to {what}: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                Self {
                    message,
                    not_found: false,
                }
            }
        }
    }
}

impl From<CallError> for String {
    fn from(e: CallError) -> Self {
        e.message
    }
}

/// The `ingress` list of a configuration document, created empty when absent.
fn ingress_of(config: &mut Map<String, Value>) -> &mut Vec<Value> {
    let ingress = config
        .entry("ingress")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !ingress.is_array() {
        *ingress = Value::Array(Vec::new());
    }
    ingress.as_array_mut().expect("made an array above")
}

fn hostname(rule: &Value) -> Option<&str> {
    rule.get("hostname")
        .and_then(Value::as_str)
        .filter(|h| !h.is_empty())
}

fn service(rule: &Value) -> Option<&str> {
    rule.get("service").and_then(Value::as_str)
}

fn has_path(rule: &Value) -> bool {
    rule.get("path")
        .and_then(Value::as_str)
        .is_some_and(|p| !p.is_empty())
}

/// `rule` is exactly the host-wide rule `host → service`.
fn is_rule(rule: &Value, (host, to): &(String, String)) -> bool {
    hostname(rule) == Some(host.as_str()) && service(rule) == Some(to.as_str()) && !has_path(rule)
}

/// A DNS record, as far as Slipway reads one.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

impl Record {
    pub fn is_ours(&self, mark: &str, target: &str) -> bool {
        self.kind == "CNAME"
            && self
                .content
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(target))
            && self
                .comment
                .as_deref()
                .is_some_and(|c| c.split_whitespace().next() == Some(mark))
    }
}

impl ApiResult for Record {}

#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct Records(Vec<Record>);

impl ApiResult for Records {}

/// `GET zones/{zone}/dns_records?…`.
#[derive(Debug)]
struct ListRecords<'a> {
    zone: &'a str,
    /// Host names and the tunnel target are DNS names: nothing in them needs escaping.
    query: String,
}

impl EndpointSpec for ListRecords<'_> {
    type JsonResponse = Records;
    type ResponseType = ApiSuccess<Records>;

    fn method(&self) -> Method {
        Method::GET
    }

    fn path(&self) -> String {
        format!("zones/{}/dns_records", self.zone)
    }

    fn query(&self) -> Option<String> {
        Some(self.query.clone())
    }
}

/// `POST zones/{zone}/dns_records`.
#[derive(Debug)]
struct CreateRecord<'a> {
    zone: &'a str,
    body: String,
}

impl EndpointSpec for CreateRecord<'_> {
    type JsonResponse = Record;
    type ResponseType = ApiSuccess<Record>;

    fn method(&self) -> Method {
        Method::POST
    }

    fn path(&self) -> String {
        format!("zones/{}/dns_records", self.zone)
    }

    fn body(&self) -> Option<RequestBody<'_>> {
        Some(RequestBody::Json(self.body.clone()))
    }
}

/// `GET accounts/{account}/cfd_tunnel/{tunnel}/configurations`, or with a body the `PUT`
/// that replaces it (`{"config": …}`).
#[derive(Debug)]
struct TunnelConfiguration<'a> {
    account: &'a str,
    tunnel: &'a str,
    put: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Configuration {
    #[serde(default)]
    config: Option<Value>,
}

impl ApiResult for Configuration {}

impl EndpointSpec for TunnelConfiguration<'_> {
    type JsonResponse = Configuration;
    type ResponseType = ApiSuccess<Configuration>;

    fn method(&self) -> Method {
        if self.put.is_some() {
            Method::PUT
        } else {
            Method::GET
        }
    }

    fn path(&self) -> String {
        format!(
            "accounts/{}/cfd_tunnel/{}/configurations",
            self.account, self.tunnel
        )
    }

    fn body(&self) -> Option<RequestBody<'_>> {
        self.put.clone().map(RequestBody::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_matched_by_host_service_and_no_path() {
        let mut config = Map::new();
        assert!(ingress_of(&mut config).is_empty());
        let mut config: Map<String, Value> = serde_json::from_value(json!({
            "ingress": [
                { "hostname": "a.example.com", "path": "/api", "service": "http://127.0.0.1:80" },
                { "hostname": "a.example.com", "service": "http://127.0.0.1:80" },
                { "hostname": "", "service": "http_status:404" }
            ]
        }))
        .unwrap();
        let rules = ingress_of(&mut config);
        let ours = ("a.example.com".to_owned(), "http://127.0.0.1:80".to_owned());
        assert!(!is_rule(&rules[0], &ours), "a path rule is someone else's");
        assert!(is_rule(&rules[1], &ours));
        assert_eq!(hostname(&rules[2]), None);
        assert_eq!(service(&rules[2]), Some(CATCH_ALL));
    }

    #[test]
    fn only_marked_cnames_to_the_tunnel_are_ours() {
        let id = Uuid::nil();
        let mark = marker(id);
        let record = |kind: &str, content: &str, comment: Option<&str>| Record {
            id: "r".into(),
            name: "a.example.com".into(),
            kind: kind.into(),
            content: Some(content.into()),
            comment: comment.map(str::to_owned),
        };
        let target = "t.cfargotunnel.com";
        let note = format!("{mark} (made by Slipway)");
        assert!(record("CNAME", target, Some(&note)).is_ours(&mark, target));
        assert!(!record("CNAME", target, None).is_ours(&mark, target));
        assert!(!record("CNAME", target, Some("slipway:other")).is_ours(&mark, target));
        assert!(!record("CNAME", "elsewhere.example", Some(&note)).is_ours(&mark, target));
        assert!(!record("TXT", target, Some(&note)).is_ours(&mark, target));
    }
}
