//! The deployment engine against the real Docker engine, real git and real PostgreSQL:
//! fixture repositories served on loopback, built from a locally imported busybox image.

use std::{collections::HashMap, time::Duration};

use bollard::query_parameters::{ListContainersOptionsBuilder, ListImagesOptionsBuilder};
use serde_json::{json, Value};

use crate::support::{
    app::{Browser, TestApp},
    fixtures::{
        base_image, create_deployment, delete_deployment, docker, files, settled, web_app,
        GitServer,
    },
    wait,
};

const PASSWORD: &str = "a long user passphrase";
/// Builds of the fixture take seconds; the deadline allows for a loaded CI machine.
const DEPLOY_DEADLINE: Duration = Duration::from_secs(180);

async fn log_text(browser: &Browser, release: &str) -> (Vec<Value>, String) {
    let (status, text) = browser
        .get_text(&format!("/api/v1/releases/{release}/log"))
        .await;
    assert_eq!(status, 200, "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let joined = lines
        .iter()
        .map(|l| l["line"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    (lines, joined)
}

async fn fetch(port: u64, path: &str) -> Option<(u16, String)> {
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

async fn sign_up(app: &TestApp, admin: &Browser, name: &str) -> Browser {
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let browser = app.browser();
    let (status, body) = browser
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": name, "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    browser
}

async fn containers_of(deployment: &str) -> Vec<bollard::models::ContainerSummary> {
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("slipway.deployment={deployment}")],
    )]);
    docker()
        .await
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .unwrap()
}

async fn images_of(deployment: &str) -> Vec<bollard::models::ImageSummary> {
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("slipway.deployment={deployment}")],
    )]);
    docker()
        .await
        .list_images(Some(
            ListImagesOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await
        .unwrap()
}

async fn deployed_app(
    app: &TestApp,
    git: &GitServer,
    subdomain: &str,
    version: &str,
) -> (Browser, Value) {
    let admin = app.with_admin().await;
    let url = git.commit(subdomain, &files(&web_app(base_image().await, version)));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": subdomain })).await;
    let d = settled(&admin, created["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "running", "{d}");
    (admin, d)
}

#[tokio::test]
async fn a_repository_deploys_to_running_and_answers_on_its_port() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, d) = deployed_app(&app, &git, "hello", "v1").await;
    let port = d["port"].as_u64().expect("a port");
    assert_eq!(fetch(port, "/").await, Some((200, "v1\n".into())));
    assert_eq!(
        d["url"],
        format!(
            "http://hello.localhost:{}",
            app.state.config.nginx_listen_port
        )
    );
    assert_eq!(
        d["branch"], "main",
        "the default branch is found with ls-remote"
    );
    let release = &d["current_release"];
    assert_eq!(release["state"], "running");
    assert_eq!(release["number"], 1);
    assert_eq!(release["commit_sha"].as_str().unwrap().len(), 40);

    // Every step is in the log, in order.
    let (lines, text) = log_text(&admin, release["id"].as_str().unwrap()).await;
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    for step in [
        "cloning",
        "Checked out",
        "Building image",
        "Built",
        "Started container",
        "Healthy",
        "is live",
    ] {
        assert!(text.contains(step), "log lacks {step:?}:\n{text}");
    }

    // The container is locked down as promised.
    let containers = containers_of(d["id"].as_str().unwrap()).await;
    assert_eq!(containers.len(), 1);
    let inspect = docker()
        .await
        .inspect_container(containers[0].id.as_deref().unwrap(), None)
        .await
        .unwrap();
    let host = inspect.host_config.unwrap();
    assert_eq!(host.privileged, Some(false));
    assert_eq!(
        host.restart_policy.unwrap().name.unwrap().to_string(),
        "unless-stopped"
    );
    assert_eq!(host.memory, Some(64 * 1024 * 1024));
    assert!(
        host.binds.unwrap_or_default().is_empty(),
        "no host path, no Docker socket"
    );
    let bindings = host.port_bindings.unwrap();
    let binding = &bindings["8080/tcp"].as_ref().unwrap()[0];
    assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        binding.host_port.as_deref(),
        Some(port.to_string().as_str())
    );
    let labels = inspect.config.unwrap().labels.unwrap();
    assert_eq!(labels["slipway.deployment"], d["id"].as_str().unwrap());
    assert_eq!(labels["slipway.release"], release["id"].as_str().unwrap());
}

#[tokio::test]
async fn env_values_reach_the_container_and_never_the_stored_log() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("envapp", &files(&web_app(base_image().await, "v1")));
    let secret = "sup3r-s3cret-greeting";
    let created = create_deployment(
        &admin,
        json!({ "repo_url": url, "subdomain": "envapp", "env": { "GREETING": secret, "OTHER": "x" } }),
    )
    .await;
    assert_eq!(created["env_keys"], json!(["GREETING", "OTHER"]));
    assert!(
        !created.to_string().contains(secret),
        "values never come back: {created}"
    );
    let d = settled(&admin, created["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "running", "{d}");
    let port = d["port"].as_u64().unwrap();
    assert_eq!(
        fetch(port, "/env.txt").await,
        Some((200, format!("{secret}\n")))
    );

    let (_, text) = log_text(&admin, d["current_release"]["id"].as_str().unwrap()).await;
    assert!(
        text.contains("building with ••••"),
        "the build printed it, masked:\n{text}"
    );
    assert!(!text.contains(secret), "{text}");
    // Nor is it stored in the clear anywhere in the database.
    let plain: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deployment_env WHERE position(convert_to($1, 'UTF8') in value) > 0",
    )
    .bind(secret)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(plain, 0);

    // Its owner may reveal one on purpose; that is audited by key, never by value.
    let id = d["id"].as_str().unwrap();
    let (status, revealed) = admin
        .get_json(&format!("/api/v1/deployments/{id}/env/GREETING"))
        .await;
    assert_eq!(status, 200, "{revealed}");
    assert_eq!(revealed, json!({ "key": "GREETING", "value": secret }));
    let (status, _) = admin
        .get_json(&format!("/api/v1/deployments/{id}/env/MISSING"))
        .await;
    assert_eq!(status, 404);
    let (status, audit) = admin.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    let entry = audit
        .as_array()
        .or_else(|| audit["entries"].as_array())
        .unwrap()
        .iter()
        .find(|e| e["action"] == "deployment.env_revealed")
        .cloned()
        .unwrap_or_else(|| panic!("audited: {audit}"));
    assert_eq!(entry["details"]["key"], "GREETING", "{entry}");
    assert!(!audit.to_string().contains(secret));
    let stranger = app.browser();
    let (status, _) = stranger
        .get_json(&format!("/api/v1/deployments/{id}/env/GREETING"))
        .await;
    assert_eq!(status, 401);

    // Each step's start is kept, in order, for the timeline.
    let steps = &d["current_release"]["steps"];
    let at = |step: &str| {
        chrono::DateTime::parse_from_rfc3339(
            steps[step]
                .as_str()
                .unwrap_or_else(|| panic!("{step} in {steps}")),
        )
        .unwrap()
    };
    assert!(at("cloning") <= at("building"), "{steps}");
    assert!(at("building") <= at("starting"), "{steps}");
    assert!(at("starting") <= at("checking_health"), "{steps}");
    assert!(at("checking_health") <= at("running"), "{steps}");
}

#[tokio::test]
async fn a_dockerfile_that_fails_to_build_fails_with_the_error_in_the_log() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let dockerfile = format!(
        "FROM {}\nRUN echo 'compiling the frobnicator' && echo 'error: frobnicator missing' >&2 && exit 3\n",
        base_image().await
    );
    let url = git.commit("broken", &[("Dockerfile", dockerfile.as_str())]);
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "broken" })).await;
    let d = settled(&admin, created["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "failed", "{d}");
    let error = d["error"].as_str().unwrap();
    assert!(error.starts_with("Build failed:"), "{error}");
    assert!(error.contains("returned a non-zero code: 3"), "{error}");
    let release = &d["latest_release"];
    assert_eq!(release["state"], "failed");
    let (_, text) = log_text(&admin, release["id"].as_str().unwrap()).await;
    assert!(text.contains("error: frobnicator missing"), "{text}");
    assert!(text.contains("✗ Build failed"), "{text}");
    assert!(containers_of(d["id"].as_str().unwrap()).await.is_empty());
    assert!(images_of(d["id"].as_str().unwrap()).await.is_empty());
}

#[tokio::test]
async fn an_app_that_never_becomes_healthy_fails_and_leaves_no_container() {
    let app = TestApp::builder()
        .setting("DEPLOY_HEALTH_TIMEOUT_SECS", "3")
        .build()
        .await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let base = base_image().await;
    // Runs, but never listens.
    let silent =
        format!("FROM {base}\nCMD [\"/bin/sh\", \"-c\", \"echo starting up; exec sleep 1000\"]\n");
    let url = git.commit("silent", &[("Dockerfile", silent.as_str())]);
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "silent" })).await;
    let d = settled(&admin, created["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "failed", "{d}");
    let error = d["error"].as_str().unwrap();
    assert!(
        error.starts_with("Health check failed: not healthy after 3s"),
        "{error}"
    );
    let (_, text) = log_text(&admin, d["latest_release"]["id"].as_str().unwrap()).await;
    assert!(
        text.contains("starting up"),
        "the container's output is kept: {text}"
    );
    assert!(containers_of(d["id"].as_str().unwrap()).await.is_empty());

    // One that exits at once fails without waiting for the deadline, with its exit code.
    let crash =
        format!("FROM {base}\nCMD [\"/bin/sh\", \"-c\", \"echo config missing >&2; exit 7\"]\n");
    let url = git.commit("crash", &[("Dockerfile", crash.as_str())]);
    let created = create_deployment(
        &admin,
        json!({ "repo_url": url, "subdomain": "crash", "health_path": "/healthz" }),
    )
    .await;
    let d = settled(&admin, created["id"].as_str().unwrap()).await;
    let error = d["error"].as_str().unwrap();
    assert!(
        error.contains("exited with code 7") || error.contains("keeps crashing (exit code 7"),
        "{error}"
    );
    let (_, text) = log_text(&admin, d["latest_release"]["id"].as_str().unwrap()).await;
    assert!(text.contains("config missing"), "{text}");
    assert!(containers_of(d["id"].as_str().unwrap()).await.is_empty());
}

#[tokio::test]
async fn concurrent_creates_get_different_ports_and_a_busy_host_port_is_skipped() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("ports", &files(&web_app(base_image().await, "v1")));
    let first = *app.state.config.port_range.start();
    // Something else on the host already listens on the first port of the range.
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", first)).unwrap();

    let bodies: Vec<Value> = (0..4)
        .map(|i| json!({ "repo_url": url, "subdomain": format!("p{i}") }))
        .collect();
    let created = futures_util::future::join_all(
        bodies
            .into_iter()
            .map(|b| admin.post_json("/api/v1/deployments", b)),
    )
    .await;
    let mut ports: Vec<u64> = created
        .iter()
        .map(|(status, d)| {
            assert_eq!(*status, 202, "{d}");
            d["port"].as_u64().unwrap()
        })
        .collect();
    ports.sort_unstable();
    let expected: Vec<u64> = (1..=4).map(|i| u64::from(first) + i).collect();
    assert_eq!(
        ports, expected,
        "distinct, lowest free, and never the busy one"
    );

    let (status, registry) = admin.get_json("/api/v1/ports").await;
    assert_eq!(status, 200);
    assert_eq!(registry.as_array().unwrap().len(), 4, "{registry}");
}

#[tokio::test]
async fn every_invalid_field_is_a_422_naming_it() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("valid", &files(&web_app(base_image().await, "v1")));
    let ok = json!({ "repo_url": url, "subdomain": "valid" });
    let with = |field: &str, value: Value| {
        let mut body = ok.clone();
        body[field] = value;
        body
    };
    let cases: Vec<(&str, Value)> = vec![
        ("repo_url", with("repo_url", json!("file:///etc/passwd"))),
        (
            "repo_url",
            with("repo_url", json!("ssh://git@127.0.0.1/x.git")),
        ),
        ("repo_url", with("repo_url", json!("ext::sh -c id"))),
        ("repo_url", with("repo_url", json!("--upload-pack=id"))),
        (
            "repo_url",
            with("repo_url", json!("https://github.evil.example/x.git")),
        ),
        ("repo_url", with("repo_url", json!(git.url("missing")))),
        ("branch", with("branch", json!("a..b"))),
        ("branch", with("branch", json!("no-such-branch"))),
        ("subdomain", with("subdomain", json!("Bad_Name"))),
        ("subdomain", with("subdomain", json!("-x"))),
        ("subdomain", with("subdomain", json!("a".repeat(64)))),
        ("subdomain", with("subdomain", json!("www"))),
        ("subdomain", with("subdomain", json!("admin"))),
        ("env.1BAD", with("env", json!({ "1BAD": "x" }))),
        (
            "env.BIG",
            with("env", json!({ "BIG": "x".repeat(32 * 1024 + 1) })),
        ),
        (
            "env",
            with(
                "env",
                Value::Object((0..201).map(|i| (format!("K{i}"), json!("v"))).collect()),
            ),
        ),
        ("dockerfile", with("dockerfile", json!("../Dockerfile"))),
        ("context", with("context", json!("/etc"))),
        ("container_port", with("container_port", json!(70000))),
        ("health_path", with("health_path", json!("healthz"))),
        ("memory_mb", with("memory_mb", json!(1))),
        ("cpus", with("cpus", json!(0.0))),
        ("name", with("name", json!(""))),
    ];
    for (field, body) in cases {
        let (status, error) = admin.post_json("/api/v1/deployments", body.clone()).await;
        assert_eq!(status, 422, "{field}: {error}");
        assert!(
            error["error"]["fields"].get(field).is_some(),
            "{field} is named: {error}"
        );
    }
    // Credentials in the URL are refused without being echoed back.
    let (status, error) = admin
        .post_json(
            "/api/v1/deployments",
            with("repo_url", json!("https://alice:hunter2@127.0.0.1/x.git")),
        )
        .await;
    assert_eq!(status, 422);
    assert!(!error.to_string().contains("hunter2"), "{error}");
    // Nothing was stored by any of them.
    let (_, list) = admin.get_json("/api/v1/deployments").await;
    assert_eq!(list, json!([]));
    let (_, ports) = admin.get_json("/api/v1/ports").await;
    assert_eq!(ports, json!([]));

    // A taken subdomain is a conflict, and the availability check says so.
    let (_, availability) = admin.get_json("/api/v1/subdomains/valid").await;
    assert_eq!(availability, json!({ "available": true }));
    create_deployment(&admin, ok.clone()).await;
    let (status, error) = admin.post_json("/api/v1/deployments", ok.clone()).await;
    assert_eq!(status, 409, "{error}");
    let (_, availability) = admin.get_json("/api/v1/subdomains/valid").await;
    assert_eq!(availability["reason"], "taken");
    let (_, availability) = admin.get_json("/api/v1/subdomains/www").await;
    assert_eq!(availability["reason"], "reserved");
    let (_, availability) = admin.get_json("/api/v1/subdomains/Nope").await;
    assert_eq!(availability["reason"], "invalid");
}

#[tokio::test]
async fn another_users_deployment_is_not_found_and_admins_see_all() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let alice = sign_up(&app, &admin, "alice").await;
    let bob = sign_up(&app, &admin, "bob").await;
    let url = git.commit("mine", &files(&web_app(base_image().await, "v1")));
    let created =
        create_deployment(&alice, json!({ "repo_url": url, "subdomain": "alices" })).await;
    let id = created["id"].as_str().unwrap();
    let release = created["latest_release"]["id"].as_str().unwrap();

    for (method, path) in [
        (reqwest::Method::GET, format!("/api/v1/deployments/{id}")),
        (reqwest::Method::PATCH, format!("/api/v1/deployments/{id}")),
        (reqwest::Method::DELETE, format!("/api/v1/deployments/{id}")),
        (
            reqwest::Method::POST,
            format!("/api/v1/deployments/{id}/redeploy"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/deployments/{id}/stop"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/deployments/{id}/start"),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/deployments/{id}/restart"),
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/deployments/{id}/releases"),
        ),
        (
            reqwest::Method::GET,
            format!("/api/v1/releases/{release}/log"),
        ),
    ] {
        let body = (method == reqwest::Method::PATCH).then(|| json!({ "name": "mine now" }));
        let (status, answer) = bob.send(method.clone(), &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    let (_, bobs) = bob.get_json("/api/v1/deployments").await;
    assert_eq!(bobs, json!([]));
    let (status, _) = bob.get_json("/api/v1/deployments?all=true").await;
    assert_eq!(status, 403);
    let (status, _) = bob.get_json("/api/v1/ports").await;
    assert_eq!(status, 403);

    let (_, admins_own) = admin.get_json("/api/v1/deployments").await;
    assert_eq!(admins_own, json!([]));
    let (_, all) = admin.get_json("/api/v1/deployments?all=true").await;
    assert_eq!(all[0]["id"], id);
    assert_eq!(all[0]["owner"]["username"], "alice");
    let (status, _) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
    assert_eq!(status, 200);
    let d = settled(&alice, id).await;
    assert_eq!(d["state"], "running", "{d}");
}

#[tokio::test]
async fn delete_leaves_no_container_image_work_dir_or_port_and_a_second_delete_is_404() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, d) = deployed_app(&app, &git, "doomed", "v1").await;
    let id = d["id"].as_str().unwrap();
    let port = d["port"].as_u64().unwrap();
    assert_eq!(containers_of(id).await.len(), 1);
    assert!(!images_of(id).await.is_empty());

    delete_deployment(&admin, id).await;
    assert!(containers_of(id).await.is_empty());
    assert!(images_of(id).await.is_empty());
    let builds = app.data_dir().join("builds");
    let left = std::fs::read_dir(&builds).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "work directories left in {}", builds.display());
    let (_, ports) = admin.get_json("/api/v1/ports").await;
    assert_eq!(ports, json!([]));
    assert!(
        fetch(port, "/").await.is_none(),
        "nothing answers on the port"
    );
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/deployments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // The subdomain is free again.
    let (_, availability) = admin.get_json("/api/v1/subdomains/doomed").await;
    assert_eq!(availability["available"], true);
}

#[tokio::test]
async fn redeploy_replaces_the_container_and_a_failed_redeploy_keeps_the_old_one_serving() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, d) = deployed_app(&app, &git, "evolve", "v1").await;
    let id = d["id"].as_str().unwrap();
    let port = d["port"].as_u64().unwrap();

    git.commit("evolve", &files(&web_app(base_image().await, "v2")));
    let (status, _) = admin
        .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
        .await;
    assert_eq!(status, 202);
    let d = wait::until("v2 to serve", DEPLOY_DEADLINE, || async {
        let d = settled(&admin, id).await;
        (d["current_release"]["number"] == 2).then_some(d)
    })
    .await;
    // v2 started on a port of its own next to v1; v1's port is free again.
    let old_port = port;
    let port = d["port"].as_u64().unwrap();
    assert_ne!(port, old_port);
    assert_eq!(fetch(port, "/").await, Some((200, "v2\n".into())));
    // v1 is retired once the drain period is over.
    wait::until("v1 to be retired", Duration::from_secs(30), || async {
        let (_, ports) = admin.get_json("/api/v1/ports").await;
        (ports.as_array().unwrap().len() == 1 && fetch(old_port, "/").await.is_none()).then_some(())
    })
    .await;
    assert_eq!(
        containers_of(id).await.len(),
        1,
        "the old container is gone"
    );
    let (_, releases) = admin
        .get_json(&format!("/api/v1/deployments/{id}/releases"))
        .await;
    let states: Vec<&str> = releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["running", "superseded"]);

    // A release that cannot build leaves v2 serving and says why.
    let broken = format!("FROM {}\nRUN exit 1\n", base_image().await);
    git.commit("evolve", &[("Dockerfile", broken.as_str())]);
    admin
        .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
        .await;
    let d = wait::until("release 3 to fail", DEPLOY_DEADLINE, || async {
        let d = settled(&admin, id).await;
        (d["latest_release"]["number"] == 3).then_some(d)
    })
    .await;
    assert_eq!(d["state"], "running", "{d}");
    assert_eq!(d["current_release"]["number"], 2);
    assert!(
        d["error"]
            .as_str()
            .unwrap()
            .starts_with("Release #3 failed. Build failed"),
        "{d}"
    );
    assert_eq!(fetch(port, "/").await, Some((200, "v2\n".into())));
    // An env change queues a release that picks the new value up.
    git.commit("evolve", &files(&web_app(base_image().await, "v4")));
    let (status, patched) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/deployments/{id}"),
            Some(json!({ "env": { "GREETING": "bonjour" } })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["env_keys"], json!(["GREETING"]));
    let d = wait::until("release 4 to serve", DEPLOY_DEADLINE, || async {
        let d = settled(&admin, id).await;
        (d["current_release"]["number"] == 4).then_some(d)
    })
    .await;
    let port = d["port"].as_u64().unwrap();
    assert_eq!(
        fetch(port, "/env.txt").await,
        Some((200, "bonjour\n".into()))
    );
}

#[tokio::test]
async fn stop_start_and_restart_act_on_the_live_container() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, d) = deployed_app(&app, &git, "power", "v1").await;
    let id = d["id"].as_str().unwrap();
    let port = d["port"].as_u64().unwrap();

    let (status, stopped) = admin
        .post_json(&format!("/api/v1/deployments/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["state"], "stopped");
    assert!(fetch(port, "/").await.is_none_or(|(s, _)| s != 200));
    let (_, started) = admin
        .post_json(&format!("/api/v1/deployments/{id}/start"), json!({}))
        .await;
    assert_eq!(started["state"], "running");
    wait::until(
        "the app to answer again",
        Duration::from_secs(30),
        || async { fetch(port, "/").await.filter(|(s, _)| *s == 200) },
    )
    .await;
    let (_, restarted) = admin
        .post_json(&format!("/api/v1/deployments/{id}/restart"), json!({}))
        .await;
    assert_eq!(restarted["state"], "running");
    wait::until(
        "the app to answer after a restart",
        Duration::from_secs(30),
        || async { fetch(port, "/").await.filter(|(s, _)| *s == 200) },
    )
    .await;
}

#[tokio::test]
async fn the_reconciler_restores_a_vanished_container_and_removes_orphans() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, d) = deployed_app(&app, &git, "phoenix", "v1").await;
    let id = d["id"].as_str().unwrap();
    let port = d["port"].as_u64().unwrap();
    let docker = docker().await;

    // Someone removes the container by hand.
    let original = containers_of(id).await[0].id.clone().unwrap();
    docker
        .remove_container(
            &original,
            Some(
                bollard::query_parameters::RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .build(),
            ),
        )
        .await
        .unwrap();
    // And a container claiming to be this installation's, of a deployment that does not exist.
    let orphan_labels = HashMap::from([
        (
            "slipway.instance".to_owned(),
            app.state.instance_id.to_string(),
        ),
        (
            "slipway.deployment".to_owned(),
            uuid::Uuid::new_v4().to_string(),
        ),
        (
            "slipway.release".to_owned(),
            uuid::Uuid::new_v4().to_string(),
        ),
    ]);
    let orphan = docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            bollard::models::ContainerCreateBody {
                image: Some(base_image().await.to_owned()),
                cmd: Some(vec!["sleep".into(), "1000".into()]),
                labels: Some(orphan_labels),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    slipway::server::deploy::reconcile::reconcile(&app.state)
        .await
        .unwrap();

    let now = containers_of(id).await;
    assert_eq!(now.len(), 1, "recreated");
    assert_ne!(now[0].id.as_deref(), Some(original.as_str()));
    wait::until(
        "the recreated app to answer",
        Duration::from_secs(30),
        || async { fetch(port, "/").await.filter(|(s, _)| *s == 200) },
    )
    .await;
    assert!(
        docker.inspect_container(&orphan.id, None).await.is_err(),
        "the orphan is removed"
    );
    let (_, d) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
    assert_eq!(d["state"], "running");
}

/// The real binary, so it can be killed with SIGKILL like a crashed or OOM-killed process.
struct Process {
    child: std::process::Child,
    base: String,
}

impl Process {
    fn spawn(vars: &[(String, String)], data_dir: &std::path::Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
            .current_dir(data_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start slipway");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(&self) {
        let client = reqwest::Client::new();
        let url = format!("{}/health", self.base);
        wait::until("slipway to answer", Duration::from_secs(60), || async {
            client.get(&url).send().await.ok().map(drop)
        })
        .await;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_process_killed_while_building_leaves_the_release_interrupted_and_nothing_orphaned() {
    use crate::support::{
        app::{create_database, port_range, remove_docker_objects, ADMIN_PASSWORD},
        env::{database_url_for, lookup, required},
    };
    let server = required("DATABASE_URL");
    let database = create_database(&server).await;
    let data_dir = tempfile::tempdir().unwrap();
    let nginx = crate::support::services::PrivateNginx::start().await;
    let mut vars: Vec<(String, String)> = [
        ("DATABASE_URL", database_url_for(&server, &database)),
        ("REDIS_URL", required("REDIS_URL")),
        ("SECRET_KEY", required("SECRET_KEY")),
        ("REDIS_KEY_PREFIX", format!("{database}:")),
        ("DATA_DIR", data_dir.path().display().to_string()),
        (
            "LEPTOS_SITE_ROOT",
            crate::support::env::repo_root()
                .join("target/site")
                .display()
                .to_string(),
        ),
        ("GIT_ALLOWED_HOSTS", "127.0.0.1".into()),
        ("GIT_ALLOW_HTTP", "true".into()),
        ("PORT_RANGE", port_range()),
        ("ADMIN_EMAIL", "admin@example.com".into()),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
        ("LOG_LEVEL", "warn".into()),
        ("NGINX_LISTEN_PORT", nginx.port.to_string()),
        ("NGINX_CONF", nginx.conf.display().to_string()),
        ("NGINX_LISTEN_ADDR", "127.0.0.1".into()),
        ("NGINX_SITES_DIR", nginx.sites.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(host) = lookup("DOCKER_HOST") {
        vars.push(("DOCKER_HOST".into(), host));
    }
    let git = GitServer::start().await;
    let slow = format!(
        "FROM {}\nRUN echo 'building slowly' && sleep 120 && echo done\n",
        base_image().await
    );
    let url = git.commit("slow", &[("Dockerfile", slow.as_str())]);

    let mut first = Process::spawn(&vars, data_dir.path());
    first.ready().await;
    let admin = Browser::at(&first.base);
    let (status, body) = admin
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": "admin", "password": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let created = create_deployment(&admin, json!({ "repo_url": url, "subdomain": "slow" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let release = created["latest_release"]["id"].as_str().unwrap().to_owned();
    wait::until(
        "the build to run its slow step",
        Duration::from_secs(120),
        || async {
            let (_, text) = log_text(&admin, &release).await;
            text.contains("building slowly").then_some(())
        },
    )
    .await;
    let (_, d) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
    assert_eq!(d["state"], "building", "{d}");

    first.child.kill().unwrap();
    first.child.wait().unwrap();

    let second = Process::spawn(&vars, data_dir.path());
    second.ready().await;
    let admin = Browser::at(&second.base);
    admin
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": "admin", "password": ADMIN_PASSWORD }),
        )
        .await;
    let d = wait::until(
        "the release to be marked interrupted",
        Duration::from_secs(60),
        || async {
            let (_, d) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
            (d["state"] == "failed").then_some(d)
        },
    )
    .await;
    assert_eq!(d["latest_release"]["state"], "failed", "{d}");
    let error = d["error"].as_str().unwrap();
    assert!(error.contains("interrupted"), "{error}");
    assert!(error.contains("building"), "says which step: {error}");
    let (_, text) = log_text(&admin, &release).await;
    assert!(text.contains("interrupted"), "{text}");

    // Nothing is left: no container of the deployment, no build container still sleeping,
    // no image, no work directory.
    assert!(containers_of(&id).await.is_empty());
    assert!(images_of(&id).await.is_empty());
    wait::until(
        "the engine to drop the abandoned build",
        Duration::from_secs(60),
        || async {
            let all = docker()
                .await
                .list_containers(Some(ListContainersOptionsBuilder::new().all(true).build()))
                .await
                .unwrap();
            (!all.iter().any(|c| {
                c.command
                    .as_deref()
                    .unwrap_or_default()
                    .contains("building slowly")
            }))
            .then_some(())
        },
    )
    .await;
    let builds = data_dir.path().join("builds");
    let left = std::fs::read_dir(&builds).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "work directories left in {}", builds.display());

    // A redeploy after the crash works (the port and the queue are consistent).
    let instance: uuid::Uuid = {
        let pool = sqlx::PgPool::connect(&database_url_for(&server, &database))
            .await
            .unwrap();
        let id = sqlx::query_scalar("SELECT instance_id FROM instance")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        id
    };
    drop(second);
    remove_docker_objects(instance);
}

#[tokio::test]
async fn a_private_repository_is_cloned_with_its_token_which_stays_sealed() {
    use crate::support::fixtures::PRIVATE_TOKEN;
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit(
        "private-app",
        &files(&web_app(base_image().await, "secret v1")),
    );
    let body = json!({ "repo_url": url, "subdomain": "private", "health_path": "/index.html" });

    let (status, error) = admin.post_json("/api/v1/deployments", body.clone()).await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["error"]["fields"]["repo_url"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{error}"
    );
    let mut wrong = body.clone();
    wrong["access_token"] = json!("ghp_wrong");
    let (status, _) = admin.post_json("/api/v1/deployments", wrong).await;
    assert_eq!(status, 422);

    let mut right = body.clone();
    right["access_token"] = json!(PRIVATE_TOKEN);
    let created = create_deployment(&admin, right).await;
    assert_eq!(created["has_access_token"], true);
    assert!(!created.to_string().contains(PRIVATE_TOKEN));
    let d = settled(&admin, created["id"].as_str().unwrap()).await;
    assert_eq!(d["state"], "running", "{d}");
    assert_eq!(
        fetch(d["port"].as_u64().unwrap(), "/").await,
        Some((200, "secret v1\n".into()))
    );
    let (_, text) = log_text(&admin, d["current_release"]["id"].as_str().unwrap()).await;
    assert!(
        text.contains("GET /index.html"),
        "the health path was used: {text}"
    );
    assert!(!text.contains(PRIVATE_TOKEN));
    let plain: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM deployments WHERE position(convert_to($1, 'UTF8') in access_token) > 0",
    )
    .bind(PRIVATE_TOKEN)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(plain, 0);
}

#[tokio::test]
async fn builds_beyond_build_concurrency_wait_in_queued() {
    let app = TestApp::builder()
        .setting("BUILD_CONCURRENCY", "1")
        .build()
        .await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let base = base_image().await;
    let slow = format!(
        "FROM {base}\nRUN echo 'slow build' && sleep 4\nCMD [\"/bin/httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/\"]\n"
    );
    let url = git.commit("queue", &[("Dockerfile", slow.as_str())]);
    let first = create_deployment(&admin, json!({ "repo_url": url, "subdomain": "first" })).await;
    let first_id = first["id"].as_str().unwrap();
    wait::until(
        "the first build to start",
        Duration::from_secs(60),
        || async {
            let (_, d) = admin
                .get_json(&format!("/api/v1/deployments/{first_id}"))
                .await;
            (d["state"] == "building").then_some(())
        },
    )
    .await;
    let second = create_deployment(&admin, json!({ "repo_url": url, "subdomain": "second" })).await;
    let second_id = second["id"].as_str().unwrap();
    // While the first builds, the second waits its turn.
    let mut saw_waiting = false;
    loop {
        let (_, a) = admin
            .get_json(&format!("/api/v1/deployments/{first_id}"))
            .await;
        let (_, b) = admin
            .get_json(&format!("/api/v1/deployments/{second_id}"))
            .await;
        let busy = |d: &Value| matches!(d["state"].as_str(), Some("cloning" | "building"));
        assert!(!(busy(&a) && busy(&b)), "two builds at once: {a} {b}");
        if a["state"] == "building" && b["state"] == "queued" {
            saw_waiting = true;
        }
        if !busy(&a) && a["state"] != "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_waiting);
    for id in [first_id, second_id] {
        let d = settled(&admin, id).await;
        assert_eq!(d["state"], "running", "{d}");
    }
}

#[tokio::test]
async fn two_slipway_processes_sharing_a_database_never_build_the_same_release() {
    let app = TestApp::new().await;
    // The first account before the second process starts (it would make a new setup token).
    let admin = app.with_admin().await;
    let other = TestApp::builder()
        .database(&app.database)
        .setting(
            "PORT_RANGE",
            format!(
                "{}-{}",
                app.state.config.port_range.start(),
                app.state.config.port_range.end()
            ),
        )
        .build()
        .await;
    assert_ne!(app.state.deployer.worker_id, other.state.deployer.worker_id);
    let git = GitServer::start().await;
    let url = git.commit("shared", &files(&web_app(base_image().await, "v1")));
    let mut ids = Vec::new();
    for i in 0..4 {
        let d = create_deployment(
            &admin,
            json!({ "repo_url": url, "subdomain": format!("s{i}") }),
        )
        .await;
        ids.push(d["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        let d = settled(&admin, id).await;
        assert_eq!(d["state"], "running", "{d}");
        let (_, text) = log_text(&admin, d["current_release"]["id"].as_str().unwrap()).await;
        assert_eq!(text.matches("cloning").count(), 1, "built once: {text}");
    }
    drop(other);
}

#[tokio::test]
async fn a_delete_interrupted_half_way_finishes_and_deleting_a_user_removes_their_deployments() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("half", &files(&web_app(base_image().await, "v1")));
    let created = create_deployment(&admin, json!({ "repo_url": url, "subdomain": "half" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "running", "{d}");

    // A delete that crashed after marking the row and removing the container.
    sqlx::query("UPDATE deployments SET state = 'deleting' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.state.db)
        .await
        .unwrap();
    let container = containers_of(&id).await[0].id.clone().unwrap();
    docker()
        .await
        .remove_container(
            &container,
            Some(
                bollard::query_parameters::RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .build(),
            ),
        )
        .await
        .unwrap();
    // A retried DELETE is accepted and finishes the job.
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/deployments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 202);
    wait::until(
        "the half-deleted deployment to be gone",
        Duration::from_secs(60),
        || async {
            let (status, _) = admin.get_json(&format!("/api/v1/deployments/{id}")).await;
            (status == 404).then_some(())
        },
    )
    .await;
    assert!(images_of(&id).await.is_empty());

    // Deleting a user takes their deployments with them.
    let alice = sign_up(&app, &admin, "alice").await;
    let created =
        create_deployment(&alice, json!({ "repo_url": url, "subdomain": "alices" })).await;
    let alices = created["id"].as_str().unwrap().to_owned();
    let d = settled(&alice, &alices).await;
    assert_eq!(d["state"], "running", "{d}");
    let (_, users) = admin.get_json("/api/v1/users?query=alice").await;
    let alice_id = users["users"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/users/{alice_id}"),
            None,
        )
        .await;
    assert!(status == 204 || status == 200, "{status} {body}");
    let (status, _) = admin
        .get_json(&format!("/api/v1/deployments/{alices}"))
        .await;
    assert_eq!(status, 404);
    assert!(containers_of(&alices).await.is_empty());
    assert!(images_of(&alices).await.is_empty());
    let (_, ports) = admin.get_json("/api/v1/ports").await;
    assert_eq!(ports, json!([]));
}

#[tokio::test]
async fn images_beyond_keep_releases_are_pruned_and_cannot_be_rolled_back_to() {
    let app = TestApp::builder()
        .setting("KEEP_RELEASES", "2")
        .build()
        .await;
    let git = GitServer::start().await;
    let (admin, d) = deployed_app(&app, &git, "pruned", "v1").await;
    let id = d["id"].as_str().unwrap().to_owned();
    let first = d["current_release"]["id"].as_str().unwrap().to_owned();
    for (number, version) in [(2, "v2"), (3, "v3")] {
        git.commit("pruned", &files(&web_app(base_image().await, version)));
        admin
            .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
            .await;
        wait::until("the redeploy to go live", DEPLOY_DEADLINE, || async {
            let d = settled(&admin, &id).await;
            (d["current_release"]["number"] == number).then_some(())
        })
        .await;
    }
    // Old releases are retired (and pruned) once their drain is over.
    let releases = wait::until(
        "release 1's image to be pruned",
        Duration::from_secs(60),
        || async {
            let (_, releases) = admin
                .get_json(&format!("/api/v1/deployments/{id}/releases"))
                .await;
            let list = releases.as_array().unwrap();
            (list.len() == 3 && list[2]["image"].is_null() && list[1]["state"] == "superseded")
                .then_some(releases)
        },
    )
    .await;
    let list = releases.as_array().unwrap();
    assert!(
        list[0]["image"].is_string() && list[1]["image"].is_string(),
        "{releases}"
    );
    let tags: Vec<String> = images_of(&id)
        .await
        .into_iter()
        .flat_map(|i| i.repo_tags)
        .filter(|t| t != "<none>:<none>")
        .collect();
    assert_eq!(tags.len(), 2, "{tags:?}");
    let (status, error) = admin
        .post_json(
            &format!("/api/v1/deployments/{id}/rollback"),
            json!({ "release_id": first }),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(error["error"]["fields"]["release_id"]
        .as_str()
        .unwrap()
        .contains("pruned"));
}
