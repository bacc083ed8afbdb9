//! The Cloudflare side of routing: per host name, one ingress rule `<host> →
//! http://127.0.0.1:<nginx port>` in a remotely-managed tunnel's configuration and one
//! proxied CNAME `<host> → <tunnel id>.cfargotunnel.com`.
//!
//! DNS records go through the cloudflare crate's endpoints. The crate has no endpoint for
//! tunnel configurations, so the two used here are declared on its client below. The
//! configuration is one document shared with whatever else the operator routes through the
//! tunnel: it is read, changed and written back as plain JSON, so fields Slipway does not model
//! (other rules' `originRequest`, `warp-routing`…) survive untouched, and the read-change-write
//! is serialized across processes by a PostgreSQL advisory lock.

use std::{collections::HashSet, time::Duration};

use cloudflare::{
    endpoints::dns::dns::{
        CreateDnsRecord, CreateDnsRecordParams, DeleteDnsRecord, DnsContent, ListDnsRecords,
        ListDnsRecordsParams,
    },
    framework::{
        auth::Credentials,
        client::{async_api::Client, ClientConfig},
        endpoint::{spec::EndpointSpec, Method, RequestBody},
        response::{ApiFailure, ApiResult, ApiSuccess},
        Environment,
    },
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use sqlx::PgPool;

use crate::server::config::{CloudflareSettings, Config};

/// Any constant works as long as nothing else locks it: "slipway\x01" as bytes.
const CONFIG_LOCK: i64 = 0x736c_6970_7761_7901;
/// The rule cloudflared needs last when the configuration had none.
const CATCH_ALL: &str = "http_status:404";

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

/// What exists in Cloudflare for one host name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub rule: bool,
    pub record: Option<String>,
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

    /// Adds whatever of the rule and the CNAME is missing. `route` says what exists when it
    /// returns, also when it fails part way.
    /// Nothing is added for a deployment that is gone or being deleted by the time the lock is
    /// held, so a retry racing a delete cannot leave a rule behind.
    pub async fn ensure(
        &self,
        deployment: uuid::Uuid,
        host: &str,
        route: &mut Route,
    ) -> Result<(), String> {
        let _local = self.local.lock().await;
        let mut lock = self.lock().await?;
        let wanted = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM deployments WHERE id = $1 AND state <> 'deleting')
               AS "wanted!""#,
            deployment
        )
        .fetch_one(&mut *lock)
        .await
        .map_err(|e| format!("the database is not reachable: {e}"))?;
        if !wanted {
            return Err("the deployment is being deleted".into());
        }
        let mut config = self.configuration().await?;
        let ingress = ingress_of(&mut config);
        match ingress.iter().find(|r| hostname(r) == Some(host)) {
            Some(rule) if service(rule) == Some(self.origin.as_str()) => {}
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
                ingress.insert(at, json!({ "hostname": host, "service": self.origin }));
                if ingress.last().and_then(hostname).is_some() {
                    ingress.push(json!({ "service": CATCH_ALL }));
                }
                self.put_configuration(config).await?;
            }
        }
        route.rule = true;

        let existing = self.records(host).await?;
        let id = match existing.into_iter().next() {
            Some(id) => id,
            None => {
                self.call(
                    "create the DNS record",
                    &CreateDnsRecord {
                        zone_identifier: &self.zone_id,
                        params: CreateDnsRecordParams {
                            ttl: Some(1), // automatic, as proxied records require
                            priority: None,
                            proxied: Some(true),
                            name: host,
                            content: DnsContent::CNAME {
                                content: self.target.clone(),
                            },
                        },
                    },
                )
                .await?
                .result
                .id
            }
        };
        route.record = Some(id);
        Ok(())
    }

    /// Removes the CNAME (the recorded one and any other pointing this host at the tunnel)
    /// and the host's rule: the one Slipway made, or when `made_rule` is false only a rule
    /// that routes to nginx. Each step is a no-op when already done.
    pub async fn remove(
        &self,
        host: &str,
        record: Option<&str>,
        made_rule: bool,
    ) -> Result<(), String> {
        let _local = self.local.lock().await;
        let _lock = self.lock().await?;
        let mut ids: Vec<String> = record.into_iter().map(str::to_owned).collect();
        for id in self.records(host).await? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        for id in &ids {
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
                Ok(_) => {}
                Err(e) if e.not_found => {}
                Err(e) => return Err(e.message),
            }
        }

        let mut config = self.configuration().await?;
        let ingress = ingress_of(&mut config);
        let before = ingress.len();
        ingress.retain(|r| {
            hostname(r) != Some(host) || !(made_rule || service(r) == Some(self.origin.as_str()))
        });
        if ingress.len() != before {
            self.put_configuration(config).await?;
        }
        Ok(())
    }

    /// What exists for `host` right now.
    pub async fn route(&self, host: &str) -> Result<Route, String> {
        let rule = self.routed_hosts().await?.contains(host);
        let record = self.records(host).await?.into_iter().next();
        Ok(Route { rule, record })
    }

    /// The host names the tunnel sends to nginx: one read for any number of deployments.
    pub async fn routed_hosts(&self) -> Result<HashSet<String>, String> {
        let mut config = self.configuration().await?;
        Ok(ingress_of(&mut config)
            .iter()
            .filter(|r| service(r) == Some(self.origin.as_str()))
            .filter_map(hostname)
            .map(str::to_owned)
            .collect())
    }

    /// Ids of the CNAMEs that point `host` at the tunnel.
    async fn records(&self, host: &str) -> Result<Vec<String>, String> {
        let found = self
            .call(
                "list DNS records",
                &ListDnsRecords {
                    zone_identifier: &self.zone_id,
                    params: ListDnsRecordsParams {
                        record_type: Some(DnsContent::CNAME {
                            content: self.target.clone(),
                        }),
                        name: Some(host.to_owned()),
                        per_page: Some(100),
                        ..ListDnsRecordsParams::default()
                    },
                },
            )
            .await?
            .result;
        Ok(found
            .into_iter()
            .filter(|r| r.name.eq_ignore_ascii_case(host))
            .filter(|r| matches!(&r.content, DnsContent::CNAME { content } if content.eq_ignore_ascii_case(&self.target)))
            .map(|r| r.id)
            .collect())
    }

    /// The tunnel's configuration document (`config`), empty when it never had one.
    async fn configuration(&self) -> Result<Map<String, Value>, String> {
        let got = self
            .call(
                "read the tunnel configuration",
                &GetConfiguration {
                    account: &self.account_id,
                    tunnel: &self.tunnel_id,
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
            &PutConfiguration {
                account: &self.account_id,
                tunnel: &self.tunnel_id,
                body: json!({ "config": config }).to_string(),
            },
        )
        .await?;
        Ok(())
    }

    /// Holds the configuration lock until the returned transaction is dropped.
    async fn lock(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, String> {
        let mut tx = self
            .db
            .begin()
            .await
            .map_err(|e| format!("the database is not reachable: {e}"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CONFIG_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| format!("the database is not reachable: {e}"))?;
        Ok(tx)
    }

    async fn call<E>(&self, what: &str, endpoint: &E) -> Result<E::ResponseType, CallError>
    where
        E: EndpointSpec + Send + Sync,
        E::ResponseType: cloudflare::framework::response::ResponseConverter<E::JsonResponse>,
    {
        let result = self.client.request(endpoint).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!("cloudflare_api_requests_total", "outcome" => outcome).increment(1);
        result.map_err(|e| CallError::new(what, e))
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

/// `GET accounts/{account}/cfd_tunnel/{tunnel}/configurations`.
#[derive(Debug)]
struct GetConfiguration<'a> {
    account: &'a str,
    tunnel: &'a str,
}

/// `PUT accounts/{account}/cfd_tunnel/{tunnel}/configurations` with `{"config": …}`.
#[derive(Debug)]
struct PutConfiguration<'a> {
    account: &'a str,
    tunnel: &'a str,
    body: String,
}

#[derive(Debug, Deserialize)]
struct Configuration {
    #[serde(default)]
    config: Option<Value>,
}

impl ApiResult for Configuration {}

impl EndpointSpec for GetConfiguration<'_> {
    type JsonResponse = Configuration;
    type ResponseType = ApiSuccess<Configuration>;

    fn method(&self) -> Method {
        Method::GET
    }

    fn path(&self) -> String {
        format!(
            "accounts/{}/cfd_tunnel/{}/configurations",
            self.account, self.tunnel
        )
    }
}

impl EndpointSpec for PutConfiguration<'_> {
    type JsonResponse = Configuration;
    type ResponseType = ApiSuccess<Configuration>;

    fn method(&self) -> Method {
        Method::PUT
    }

    fn path(&self) -> String {
        format!(
            "accounts/{}/cfd_tunnel/{}/configurations",
            self.account, self.tunnel
        )
    }

    fn body(&self) -> Option<RequestBody<'_>> {
        Some(RequestBody::Json(self.body.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingress_is_made_when_missing_and_rules_are_read_by_host_and_service() {
        let mut config = Map::new();
        assert!(ingress_of(&mut config).is_empty());
        let mut config: Map<String, Value> = serde_json::from_value(json!({
            "ingress": [
                { "hostname": "a.example.com", "service": "http://127.0.0.1:80" },
                { "hostname": "", "service": "http_status:404" }
            ]
        }))
        .unwrap();
        let rules = ingress_of(&mut config);
        assert_eq!(hostname(&rules[0]), Some("a.example.com"));
        assert_eq!(hostname(&rules[1]), None);
        assert_eq!(service(&rules[1]), Some(CATCH_ALL));
    }
}
