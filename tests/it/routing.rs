//! Routing through a real nginx (each test app has its own): virtual hosts rendered,
//! checked with `nginx -t`, reloaded, and removed with the deployment.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::json;

use crate::support::{
    app::TestApp,
    fixtures::{
        base_image, create_deployment, delete_deployment, files, settled, web_app, GitServer,
    },
    wait,
};

const DEADLINE: Duration = Duration::from_secs(180);

/// `GET http://<host>:<nginx port>/` with the name resolved to loopback, as
/// `curl --resolve` does.
pub async fn through_nginx(app: &TestApp, host: &str, path: &str) -> Option<(u16, String)> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], app.nginx.port));
    let client = reqwest::Client::builder()
        .resolve(host, addr)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let response = client
        .get(format!("http://{host}:{}{path}", app.nginx.port))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

#[tokio::test]
async fn a_deployment_is_served_through_nginx_at_its_host_name_until_deleted() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit(
        "routed",
        &files(&web_app(base_image().await, "through nginx")),
    );
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "routed" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "running", "{d}");
    assert_eq!(
        d["url"],
        format!("http://routed.localhost:{}", app.nginx.port)
    );

    assert_eq!(
        through_nginx(&app, "routed.localhost", "/").await,
        Some((200, "through nginx\n".into()))
    );
    // Another name on the same nginx is not this app.
    assert_eq!(
        through_nginx(&app, "other.localhost", "/")
            .await
            .map(|(s, _)| s),
        Some(404)
    );
    let (status, routing) = admin
        .get_json(&format!("/api/v1/deployments/{id}/routing"))
        .await;
    assert_eq!(status, 200, "{routing}");
    assert_eq!(routing["vhost_present"], true);
    assert_eq!(routing["upstream_port"], d["port"]);
    assert_eq!(routing["host"], "routed.localhost");
    let vhost = std::fs::read_to_string(routing["vhost_path"].as_str().unwrap()).unwrap();
    assert_eq!(vhost.matches("server_name").count(), 1, "{vhost}");
    for header in [
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Real-IP",
        "Upgrade",
    ] {
        assert!(vhost.contains(header), "{header} is forwarded: {vhost}");
    }

    delete_deployment(&admin, &id).await;
    assert!(!std::path::Path::new(routing["vhost_path"].as_str().unwrap()).exists());
    assert_eq!(
        through_nginx(&app, "routed.localhost", "/")
            .await
            .map(|(s, _)| s),
        Some(404),
        "nginx was reloaded: the name no longer routes"
    );
}

#[tokio::test]
async fn a_config_nginx_refuses_is_rolled_back_and_shown_on_the_deployment() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    // Something else broke nginx's configuration: no new virtual host may be loaded.
    std::fs::write(app.nginx.sites.join("broken.conf"), "this is not nginx;\n").unwrap();
    let url = git.commit("refused", &files(&web_app(base_image().await, "v1")));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "refused" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "failed", "{d}");
    let error = d["error"].as_str().unwrap();
    assert!(
        error.starts_with("Routing failed: nginx -t failed"),
        "{error}"
    );
    let (_, routing) = admin
        .get_json(&format!("/api/v1/deployments/{id}/routing"))
        .await;
    assert_eq!(
        routing["vhost_present"], false,
        "the file was taken back: {routing}"
    );
}

#[tokio::test]
async fn the_reconciler_restores_a_missing_vhost_and_removes_a_stray_one() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("healed", &files(&web_app(base_image().await, "healed")));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "healed" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&admin, &id).await["state"], "running");
    let (_, routing) = admin
        .get_json(&format!("/api/v1/deployments/{id}/routing"))
        .await;
    let vhost = std::path::PathBuf::from(routing["vhost_path"].as_str().unwrap());
    std::fs::remove_file(&vhost).unwrap();
    let stray = app
        .nginx
        .sites
        .join(format!("slipway-{}.conf", uuid::Uuid::new_v4()));
    std::fs::write(&stray, "# a deployment that no longer exists\n").unwrap();

    slipway::server::deploy::reconcile::reconcile(&app.state)
        .await
        .unwrap();

    let (_, after) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
    assert!(vhost.exists(), "restored: {after}");
    assert!(after.get("error").is_none(), "{after}");
    assert!(!stray.exists(), "removed");
    assert_eq!(
        through_nginx(&app, "healed.localhost", "/").await,
        Some((200, "healed\n".into()))
    );
}

/// A main configuration like `scripts/services.sh` writes, around a sites directory.
fn nginx_check(sites: &std::path::Path) -> bool {
    let root = sites.parent().unwrap();
    let conf = root.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "pid {r}/nginx.pid;\nerror_log {r}/error.log;\nevents {{}}\nhttp {{\n\
             map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}\n\
             server_names_hash_bucket_size 128;\ninclude {s}/*.conf;\n}}\n",
            r = root.display(),
            s = sites.display()
        ),
    )
    .unwrap();
    std::process::Command::new("nginx")
        .env("PATH", "/usr/sbin:/usr/local/sbin:/usr/bin:/bin")
        .arg("-t")
        .arg("-q")
        .arg("-c")
        .arg(&conf)
        .arg("-p")
        .arg(root)
        .status()
        .expect("nginx is installed")
        .success()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever subdomain the API accepts renders to a file nginx accepts, with exactly one
    /// `server_name`.
    #[test]
    fn every_accepted_subdomain_renders_a_config_nginx_accepts(
        subdomain in "[a-z0-9][a-z0-9-]{0,61}[a-z0-9]|[a-z0-9]",
        port in 1024u16..65535,
    ) {
        use slipway::server::{config::{Config, Settings}, deploy::validate, nginx::{Nginx, Site}};
        let dir = tempfile::tempdir().unwrap();
        let sites = dir.path().join("sites");
        let sites_str = sites.display().to_string();
        let config = Config::from_settings(&Settings::from_pairs([
            ("DATABASE_URL", "postgres://u:p@localhost/db"),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ("SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            ("NGINX_SITES_DIR", sites_str.as_str()),
            ("BASE_DOMAIN", "apps.example.com"),
            ("NGINX_LISTEN_ADDR", "127.0.0.1"),
        ]))
        .unwrap();
        prop_assume!(validate::subdomain(&subdomain, &config.deploy).is_ok());
        let nginx = Nginx::locate(&config).unwrap();
        let host = format!("{subdomain}.apps.example.com");
        let id = uuid::Uuid::new_v4();
        let text = nginx.render(&Site { deployment: id, host: &host, upstream_port: port }).unwrap();
        prop_assert_eq!(text.matches("server_name").count(), 1);
        let server_name_line = format!("server_name {host};");
        prop_assert!(text.contains(&server_name_line));
        std::fs::write(nginx.site_path(id), &text).unwrap();
        prop_assert!(nginx_check(&sites), "nginx -t refused:\n{}", text);
    }
}

/// Requests through nginx at about `rate` per second until `stop` turns true; every answer
/// (or failure) is kept.
fn steady_load(
    host: &'static str,
    nginx_port: u16,
    rate: u32,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Result<(u16, String), String>>> {
    tokio::spawn(async move {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], nginx_port));
        // A connection per request: a request racing nginx's close of an idle keep-alive
        // connection (which every old worker does at a reload) is the client's to retry, as
        // browsers do for idempotent requests; what is measured here is routing itself.
        let client = reqwest::Client::builder()
            .resolve(host, addr)
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
        let mut requests = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            tick.tick().await;
            let client = client.clone();
            let url = format!("http://{host}:{nginx_port}/");
            requests.push(tokio::spawn(async move {
                let response = client.get(url).send().await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                Ok((status, response.text().await.map_err(|e| e.to_string())?))
            }));
        }
        let mut results = Vec::new();
        for request in requests {
            results.push(request.await.unwrap());
        }
        results
    })
}

#[tokio::test]
async fn a_redeploy_under_steady_load_drops_nothing_and_a_failing_one_leaves_the_old_serving() {
    let app = TestApp::builder()
        .setting("REDEPLOY_DRAIN_SECS", "2")
        .setting("DEPLOY_HEALTH_TIMEOUT_SECS", "3")
        .build()
        .await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let base = base_image().await;
    let url = git.commit("steady", &files(&web_app(base, "v1")));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "steady" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&admin, &id).await["state"], "running");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = steady_load("steady.localhost", app.nginx.port, 200, stop.clone());

    // v2 replaces v1 while requests keep coming.
    git.commit("steady", &files(&web_app(base, "v2")));
    admin
        .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
        .await;
    wait::until("v2 to be live", DEADLINE, || async {
        let d = settled(&admin, &id).await;
        (d["current_release"]["number"] == 2).then_some(())
    })
    .await;
    // v3 never becomes healthy: v2 keeps answering throughout.
    let silent = format!("FROM {base}\nCMD [\"/bin/sh\", \"-c\", \"exec sleep 1000\"]\n");
    git.commit("steady", &[("Dockerfile", silent.as_str())]);
    admin
        .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
        .await;
    let d = wait::until("v3 to fail", DEADLINE, || async {
        let d = settled(&admin, &id).await;
        (d["latest_release"]["number"] == 3).then_some(d)
    })
    .await;
    assert_eq!(d["state"], "running", "{d}");
    assert_eq!(d["current_release"]["number"], 2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let results = load.await.unwrap();

    let failed: Vec<_> = results
        .iter()
        .filter(|r| !matches!(r, Ok((200, _))))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests failed, e.g. {:?}",
        failed.len(),
        results.len(),
        failed.first()
    );
    let bodies: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(_, b)| b.as_str()))
        .collect();
    // Around the switch, nginx's old workers finish what they accepted, so v1 and v2
    // answers interleave for a moment; v3 never answers, and once switched it stays v2.
    assert!(
        bodies.iter().all(|b| *b == "v1\n" || *b == "v2\n"),
        "only v1 and v2 answer"
    );
    assert_eq!(bodies.first(), Some(&"v1\n"));
    let last_v1 = bodies.iter().rposition(|b| *b == "v1\n").unwrap();
    assert!(
        bodies.len() - last_v1 > 200,
        "v2 answered only the last {} requests",
        bodies.len() - last_v1 - 1
    );
    assert!(
        results.len() > 400,
        "the load ran: {} requests",
        results.len()
    );
}

#[tokio::test]
async fn a_rollback_under_load_brings_back_the_old_image_and_its_environment() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let base = base_image().await;
    let url = git.commit("back", &files(&web_app(base, "v1")));
    let created = create_deployment(
        &admin,
        json!({ "repo_url": url, "subdomain": "back", "env": { "GREETING": "one" } }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let first = settled(&admin, &id).await;
    assert_eq!(first["state"], "running", "{first}");
    let first_release = first["current_release"]["id"].as_str().unwrap().to_owned();

    git.commit("back", &files(&web_app(base, "v2")));
    admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/deployments/{id}"),
            Some(json!({ "env": { "GREETING": "two", "EXTRA": "x" } })),
        )
        .await;
    wait::until("v2 to be live", DEADLINE, || async {
        let d = settled(&admin, &id).await;
        (d["current_release"]["number"] == 2).then_some(())
    })
    .await;
    assert_eq!(
        through_nginx(&app, "back.localhost", "/env.txt").await,
        Some((200, "two\n".into()))
    );

    // Refused: the live release, a release of nothing here.
    let (_, live) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
    for bad in [
        live["current_release"]["id"].clone(),
        json!(uuid::Uuid::new_v4().to_string()),
    ] {
        let (status, error) = admin
            .post_json(
                &format!("/api/v1/deployments/{id}/rollback"),
                json!({ "release_id": bad }),
            )
            .await;
        assert_eq!(status, 422, "{error}");
        assert!(
            error["error"]["fields"]["release_id"].is_string(),
            "{error}"
        );
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = steady_load("back.localhost", app.nginx.port, 200, stop.clone());
    let (status, body) = admin
        .post_json(
            &format!("/api/v1/deployments/{id}/rollback"),
            json!({ "release_id": first_release }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let d = wait::until("the rollback to be live", DEADLINE, || async {
        let d = settled(&admin, &id).await;
        (d["current_release"]["number"] == 3).then_some(d)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let results = load.await.unwrap();
    let failed = results
        .iter()
        .filter(|r| !matches!(r, Ok((200, _))))
        .count();
    assert_eq!(failed, 0, "of {} requests", results.len());
    assert_eq!(d["current_release"]["trigger"], "rollback");
    assert_eq!(
        d["current_release"]["commit_sha"],
        first["current_release"]["commit_sha"]
    );
    assert_eq!(
        through_nginx(&app, "back.localhost", "/").await,
        Some((200, "v1\n".into()))
    );
    assert_eq!(
        through_nginx(&app, "back.localhost", "/env.txt").await,
        Some((200, "one\n".into())),
        "release 1's environment is back"
    );
    assert_eq!(
        d["env_keys"],
        json!(["GREETING"]),
        "and is the deployment's again"
    );
}

#[tokio::test]
async fn a_vhost_nginx_never_serves_is_taken_back_and_the_release_fails() {
    // Slipway writes where this nginx does not look: the check passes, the route never comes.
    let elsewhere = tempfile::tempdir().unwrap();
    let app = TestApp::builder()
        .setting("NGINX_SITES_DIR", elsewhere.path().display().to_string())
        .setting("NGINX_ROUTE_TIMEOUT_SECS", "2")
        .build()
        .await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("unseen", &files(&web_app(base_image().await, "v1")));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "unseen" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "failed", "{d}");
    let error = d["error"].as_str().unwrap();
    assert!(
        error.starts_with("Routing failed: nginx on port") && error.contains("within 2s"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "no virtual host is left pointing at a container that is gone"
    );
}
