//! Cloudflare Tunnel routing against a local stand-in of the v4 API: one ingress rule and one
//! proxied CNAME per deployment, nothing else in the tunnel or the zone touched, and API
//! errors shown on the deployment and retried.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    routing::through_nginx,
    support::{
        app::{Browser, TestApp},
        cloudflare::{CloudflareStandIn, TOKEN, TUNNEL},
        fixtures::{
            base_image, create_deployment, delete_deployment, files, settled, web_app, GitServer,
        },
        wait,
    },
};

const DEADLINE: Duration = Duration::from_secs(60);

/// A tunnel that already routes other things: a rule with its own origin settings, a
/// wildcard, the catch-all, and `warp-routing`, none of which Slipway may change.
fn existing_config() -> Value {
    json!({
        "ingress": [
            {
                "hostname": "grafana.localhost",
                "service": "http://10.0.0.5:3000",
                "originRequest": { "noTLSVerify": true, "connectTimeout": 10 }
            },
            { "hostname": "*.legacy.localhost", "service": "http://10.0.0.6:80" },
            { "service": "http_status:404" }
        ],
        "originRequest": { "keepAliveTimeout": 90 },
        "warp-routing": { "enabled": true }
    })
}

fn existing_records() -> Vec<Value> {
    vec![
        json!({ "type": "A", "name": "grafana.localhost", "content": "192.0.2.10", "proxied": true }),
        json!({ "type": "CNAME", "name": "docs.localhost", "content": format!("{TUNNEL}.cfargotunnel.com"), "proxied": true }),
    ]
}

fn rules_for<'a>(ingress: &'a [Value], host: &str) -> Vec<&'a Value> {
    ingress.iter().filter(|r| r["hostname"] == host).collect()
}

fn cnames_for<'a>(records: &'a [Value], host: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["name"] == host).collect()
}

async fn deploy(admin: &Browser, git: &GitServer, subdomain: &str) -> (String, Value) {
    let url = git.commit(
        subdomain,
        &files(&web_app(base_image().await, "tunneled v1")),
    );
    let created =
        create_deployment(admin, json!({ "repo_url": url, "subdomain": subdomain })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let d = settled(admin, &id).await;
    assert_eq!(d["state"], "running", "{d}");
    (id, d)
}

#[tokio::test]
async fn a_deployment_gets_one_tunnel_rule_and_one_cname_and_delete_takes_exactly_those() {
    let cf = CloudflareStandIn::start(existing_config(), existing_records()).await;
    let app = TestApp::builder().cloudflare(&cf).build().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let before_config = cf.config();
    let before_records = cf.records();

    let (id, d) = deploy(&admin, &git, "tunneled").await;
    assert!(d.get("routing_error").is_none(), "{d}");
    assert_eq!(
        d["url"], "https://tunneled.localhost",
        "served at Cloudflare's edge"
    );
    let host = "tunneled.localhost";
    let origin = format!("http://127.0.0.1:{}", app.nginx.port);

    // Exactly one rule, to nginx, ahead of the wildcard and the catch-all.
    let ingress = cf.ingress();
    let ours = rules_for(&ingress, host);
    assert_eq!(ours.len(), 1, "{ingress:?}");
    assert_eq!(ours[0], &json!({ "hostname": host, "service": origin }));
    assert_eq!(ingress.len(), 4, "{ingress:?}");
    assert_eq!(ingress[0], before_config["ingress"][0]);
    assert_eq!(ingress[1]["hostname"], host, "{ingress:?}");
    assert_eq!(ingress[2], before_config["ingress"][1]);
    assert_eq!(ingress[3], before_config["ingress"][2]);
    let config = cf.config();
    assert_eq!(config["originRequest"], before_config["originRequest"]);
    assert_eq!(config["warp-routing"], before_config["warp-routing"]);

    // Exactly one proxied CNAME to the tunnel; the zone's other records as they were.
    let records = cf.records();
    let cnames = cnames_for(&records, host);
    assert_eq!(cnames.len(), 1, "{records:?}");
    assert_eq!(cnames[0]["type"], "CNAME");
    assert_eq!(cnames[0]["content"], format!("{TUNNEL}.cfargotunnel.com"));
    assert_eq!(cnames[0]["proxied"], true);
    assert!(
        cnames[0]["comment"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("slipway:{id} "))),
        "marked as Slipway's: {}",
        cnames[0]
    );
    assert_eq!(records.len(), before_records.len() + 1);
    for old in &before_records {
        assert!(records.contains(old), "{old} is untouched");
    }
    let record_id = cnames[0]["id"].as_str().unwrap().to_owned();

    let (status, routing) = admin
        .get_json(&format!("/api/v1/deployments/{id}/routing"))
        .await;
    assert_eq!(status, 200, "{routing}");
    assert_eq!(routing["cloudflare"], true);
    assert_eq!(routing["tunnel_rule_present"], true);
    assert_eq!(routing["dns_record_id"], record_id.as_str());
    assert!(routing.get("cloudflare_error").is_none(), "{routing}");
    // What cloudflared does with the rule: send the request to nginx with the host name.
    assert_eq!(
        through_nginx(&app, host, "/").await,
        Some((200, "tunneled v1\n".into()))
    );

    // A redeploy changes nothing in Cloudflare: still one rule and one record, no writes.
    let writes = cf.calls("PUT", "/configurations") + cf.calls("POST", "/dns_records");
    let (status, body) = admin
        .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
        .await;
    assert_eq!(status, 202, "{body}");
    let d = settled(&admin, &id).await;
    assert_eq!(d["latest_release"]["state"], "running", "{d}");
    assert_eq!(rules_for(&cf.ingress(), host).len(), 1);
    assert_eq!(cnames_for(&cf.records(), host).len(), 1);
    assert_eq!(
        cf.calls("PUT", "/configurations") + cf.calls("POST", "/dns_records"),
        writes
    );

    delete_deployment(&admin, &id).await;
    assert_eq!(cf.config(), before_config, "the tunnel is as it was");
    assert_eq!(cf.records(), before_records, "the zone is as it was");
}

#[tokio::test]
async fn cloudflare_errors_show_on_the_deployment_and_are_retried_until_routing_and_delete_finish()
{
    let cf = CloudflareStandIn::start(existing_config(), existing_records()).await;
    let app = TestApp::builder()
        .cloudflare(&cf)
        .setting("RECONCILE_INTERVAL_SECS", "1")
        .build()
        .await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let host = "flaky.localhost";

    // The token lost its permission on the tunnel: the configuration cannot be written.
    let refusal = "Authentication error";
    cf.fail(Method::PUT, "/configurations", 403, 10000, refusal);
    let (id, d) = deploy(&admin, &git, "flaky").await;
    let routing_error = d["routing_error"].as_str().unwrap_or_default();
    assert!(
        routing_error.contains("Authentication error (code 10000)"),
        "the API's message is on the deployment: {d}"
    );
    let release = d["latest_release"]["id"].as_str().unwrap();
    let (_, log) = admin
        .get_text(&format!("/api/v1/releases/{release}/log"))
        .await;
    assert!(log.contains("Authentication error"), "{log}");
    assert!(!log.contains(TOKEN) && !d.to_string().contains(TOKEN));
    let (_, routing) = admin
        .get_json(&format!("/api/v1/deployments/{id}/routing"))
        .await;
    assert_eq!(routing["tunnel_rule_present"], false, "{routing}");
    assert!(routing["cloudflare_error"]
        .as_str()
        .is_some_and(|e| e.contains(refusal)));
    assert!(rules_for(&cf.ingress(), host).is_empty());
    assert!(
        cnames_for(&cf.records(), host).is_empty(),
        "no CNAME without its rule"
    );
    // The app itself is up and answers through nginx meanwhile.
    assert_eq!(
        through_nginx(&app, host, "/").await.map(|(s, _)| s),
        Some(200)
    );

    // Cloudflare accepts again: the reconciler routes it and clears the error.
    cf.heal();
    wait::until("the route to be repaired", DEADLINE, || async {
        let (_, d) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
        d.get("routing_error").is_none().then_some(())
    })
    .await;
    assert_eq!(rules_for(&cf.ingress(), host).len(), 1);
    assert_eq!(cnames_for(&cf.records(), host).len(), 1);

    // A rule someone removed in the dashboard comes back.
    let mut config = cf.config();
    config["ingress"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["hostname"] != host);
    let removed = config.clone();
    cf.replace_config(removed);
    wait::until("the removed rule to come back", DEADLINE, || async {
        (rules_for(&cf.ingress(), host).len() == 1).then_some(())
    })
    .await;

    // A delete that Cloudflare refuses stays visible and is retried until it is done.
    cf.fail(Method::DELETE, "/dns_records/", 403, 10000, refusal);
    let (status, _) = admin
        .send(Method::DELETE, &format!("/api/v1/deployments/{id}"), None)
        .await;
    assert_eq!(status, 202);
    let d = wait::until("the delete error to show", DEADLINE, || async {
        let (_, d) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
        d["error"]
            .as_str()
            .is_some_and(|e| e.contains(refusal))
            .then_some(d)
    })
    .await;
    assert_eq!(d["state"], "deleting", "{d}");
    cf.heal();
    wait::until("the deployment to be gone", DEADLINE, || async {
        let (status, _) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
        (status == 404).then_some(())
    })
    .await;
    assert!(rules_for(&cf.ingress(), host).is_empty());
    assert!(cnames_for(&cf.records(), host).is_empty());
    assert_eq!(cf.config(), existing_config());
}

#[tokio::test]
async fn names_the_operator_routes_elsewhere_are_refused_and_left_alone() {
    let mut config = existing_config();
    config["ingress"].as_array_mut().unwrap().insert(
        0,
        json!({ "hostname": "taken.localhost", "service": "http://10.0.0.9:8080" }),
    );
    let mut records = existing_records();
    // The operator's own CNAME to the tunnel (no rule yet), and a record elsewhere.
    records.push(json!({ "type": "CNAME", "name": "named.localhost", "content": format!("{TUNNEL}.cfargotunnel.com"), "proxied": true }));
    records.push(json!({ "type": "A", "name": "pointed.localhost", "content": "192.0.2.7", "proxied": false }));
    let cf = CloudflareStandIn::start(config.clone(), records).await;
    let before_records = cf.records();
    let app = TestApp::builder().cloudflare(&cf).build().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;

    let (taken, d) = deploy(&admin, &git, "taken").await;
    let error = d["routing_error"].as_str().unwrap_or_default();
    assert!(
        error.contains("already routes taken.localhost to http://10.0.0.9:8080"),
        "{d}"
    );
    for (subdomain, kind, content) in [
        ("named", "CNAME", format!("{TUNNEL}.cfargotunnel.com")),
        ("pointed", "A", "192.0.2.7".to_owned()),
    ] {
        let (_, d) = deploy(&admin, &git, subdomain).await;
        let error = d["routing_error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!(
                "{subdomain}.localhost already has a DNS record Slipway did not make ({kind} {content})"
            )),
            "{d}"
        );
        delete_deployment(&admin, d["id"].as_str().unwrap()).await;
    }
    delete_deployment(&admin, &taken).await;
    assert_eq!(cf.config(), config, "the operator's rules survive");
    assert_eq!(
        cf.records(),
        before_records,
        "the operator's records survive"
    );
}

#[tokio::test]
async fn a_new_base_domain_or_nginx_port_moves_the_route_and_leaves_nothing_behind() {
    let cf = CloudflareStandIn::start(existing_config(), existing_records()).await;
    let app = TestApp::builder().cloudflare(&cf).build().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let (id, _) = deploy(&admin, &git, "moving").await;
    assert_eq!(rules_for(&cf.ingress(), "moving.localhost").len(), 1);
    let database = app.database.clone();
    app.shutdown().await;

    // Restarted with another domain; its own nginx listens on another port.
    let moved = TestApp::builder()
        .database(&database)
        .cloudflare(&cf)
        .setting("BASE_DOMAIN", "apps.localhost")
        .setting("RECONCILE_INTERVAL_SECS", "1")
        .build()
        .await;
    let host = "moving.apps.localhost";
    let origin = format!("http://127.0.0.1:{}", moved.nginx.port);
    wait::until("the route to move", DEADLINE, || async {
        let ingress = cf.ingress();
        let records = cf.records();
        (rules_for(&ingress, host) == [&json!({ "hostname": host, "service": origin })]
            && rules_for(&ingress, "moving.localhost").is_empty()
            && cnames_for(&records, host).len() == 1
            && cnames_for(&records, "moving.localhost").is_empty())
        .then_some(())
    })
    .await;

    let admin = moved
        .signed_in("admin", crate::support::app::ADMIN_PASSWORD)
        .await;
    delete_deployment(&admin, &id).await;
    assert_eq!(cf.config(), existing_config());
    assert_eq!(cf.records().len(), existing_records().len());
}

#[tokio::test]
async fn two_processes_changing_the_tunnel_at_once_keep_both_rules() {
    let cf = CloudflareStandIn::start(existing_config(), existing_records()).await;
    let app = TestApp::builder().cloudflare(&cf).build().await;
    let admin = app.with_admin().await;
    let other = TestApp::builder()
        .database(&app.database)
        .cloudflare(&cf)
        .build()
        .await;
    let git = GitServer::start().await;
    let (first, _) = deploy(&admin, &git, "first").await;
    let (second, _) = deploy(&admin, &git, "second").await;

    // Both routes lost (say, the configuration was restored from a backup); each process
    // puts one back at the same moment, each reading the configuration before the other writes.
    cf.replace_config(existing_config());
    cf.slow_reads(Duration::from_millis(300));
    let (a, b) = tokio::join!(
        slipway::server::deploy::tunnel::publish(&app.state, first.parse().unwrap()),
        slipway::server::deploy::tunnel::publish(&other.state, second.parse().unwrap()),
    );
    a.unwrap();
    b.unwrap();
    let ingress = cf.ingress();
    assert_eq!(
        rules_for(&ingress, "first.localhost").len(),
        1,
        "{ingress:?}"
    );
    assert_eq!(
        rules_for(&ingress, "second.localhost").len(),
        1,
        "{ingress:?}"
    );
    drop(other);
}
