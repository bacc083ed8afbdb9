//! `GET /health` against real services, including outages and recovery without a restart.

use std::time::Duration;

use serde_json::Value;

use crate::support::{
    services::{PrivatePostgres, PrivateRedis},
    wait, TestApp,
};

const CHECKS: [&str; 4] = ["postgres", "redis", "docker", "nginx"];

async fn health(app: &TestApp) -> (u16, Value) {
    app.get_json("/health").await
}

/// Waits until `/health` answers with `status` and `check` has `ok == expect_ok`.
async fn wait_for(
    app: &TestApp,
    status: u16,
    check: &str,
    expect_ok: bool,
    deadline: Duration,
) -> Value {
    wait::until(
        &format!("/health to answer {status} with {check}.ok == {expect_ok}"),
        deadline,
        || async {
            let (code, body) = health(app).await;
            (code == status && body["checks"][check]["ok"] == expect_ok).then_some(body)
        },
    )
    .await
}

#[tokio::test]
async fn all_services_up_reports_200_with_every_check_ok() {
    let app = TestApp::new().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();

    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let time = body["time"].as_str().expect("time is a string");
    assert!(
        chrono::DateTime::parse_from_rfc3339(time).is_ok(),
        "RFC 3339 time: {time}"
    );
    for name in CHECKS {
        let check = &body["checks"][name];
        assert_eq!(check["ok"], true, "{name}: {check}");
        assert!(
            check["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
            "{name}: {check}"
        );
        assert!(check.get("error").is_none(), "{name}: {check}");
    }
    assert!(body.get("down").is_none(), "{body}");
    assert!(
        body["checks"]["postgres"]["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("schema ")),
        "{body}"
    );
}

#[tokio::test]
async fn redis_outage_is_reported_within_seconds_and_recovers_without_restart() {
    let mut redis = PrivateRedis::start().await;
    let app = TestApp::builder().redis(redis.url()).build().await;
    wait_for(&app, 200, "redis", true, Duration::from_secs(5)).await;

    redis.kill();
    let body = wait_for(&app, 503, "redis", false, Duration::from_secs(5)).await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["down"], serde_json::json!(["redis"]), "{body}");
    assert!(body["checks"]["redis"]["error"].is_string(), "{body}");
    for name in ["postgres", "docker", "nginx"] {
        assert_eq!(body["checks"][name]["ok"], true, "{name} stays ok: {body}");
    }

    redis.resume().await;
    let body = wait_for(&app, 200, "redis", true, Duration::from_secs(20)).await;
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn postgres_outage_is_reported_within_seconds_and_recovers_without_restart() {
    let postgres = PrivatePostgres::start().await;
    let app = TestApp::builder().postgres(postgres.url()).build().await;
    wait_for(&app, 200, "postgres", true, Duration::from_secs(5)).await;

    postgres.kill();
    let body = wait_for(&app, 503, "postgres", false, Duration::from_secs(5)).await;
    assert_eq!(body["down"], serde_json::json!(["postgres"]), "{body}");
    let error = body["checks"]["postgres"]["error"]
        .as_str()
        .expect("an error");
    assert!(
        !error.contains("127.0.0.1"),
        "no addresses in public errors: {error}"
    );

    postgres.resume().await;
    wait_for(&app, 200, "postgres", true, Duration::from_secs(20)).await;
}

#[tokio::test]
async fn a_hung_redis_cannot_hang_the_health_endpoint() {
    let redis = PrivateRedis::start().await;
    let app = TestApp::builder()
        .redis(redis.url())
        .setting("HEALTH_CHECK_TIMEOUT_MS", "500")
        .build()
        .await;
    wait_for(&app, 200, "redis", true, Duration::from_secs(5)).await;

    redis.freeze();
    // The reqwest client has no timeout of its own: only the per-check deadline ends this.
    let body = wait_for(&app, 503, "redis", false, Duration::from_secs(10)).await;
    assert_eq!(
        body["checks"]["redis"]["error"], "no answer within 500 ms",
        "{body}"
    );

    redis.thaw();
    wait_for(&app, 200, "redis", true, Duration::from_secs(20)).await;
}

#[tokio::test]
async fn an_unwritable_nginx_sites_dir_is_reported() {
    let app = TestApp::new().await;
    let sites = app.state.nginx.sites_dir.clone();
    wait_for(&app, 200, "nginx", true, Duration::from_secs(5)).await;

    // Removing the directory is the one failure root cannot write through.
    std::fs::remove_dir_all(&sites).unwrap();
    let body = wait_for(&app, 503, "nginx", false, Duration::from_secs(5)).await;
    assert_eq!(
        body["checks"]["nginx"]["error"],
        "the nginx sites directory is not writable"
    );

    std::fs::create_dir_all(&sites).unwrap();
    wait_for(&app, 200, "nginx", true, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn nginx_not_listening_is_reported() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = unused.local_addr().unwrap().port();
    drop(unused);
    let app = TestApp::builder()
        .setting("NGINX_LISTEN_PORT", port.to_string())
        .build()
        .await;
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["down"], serde_json::json!(["nginx"]), "{body}");
    assert_eq!(
        body["checks"]["nginx"]["error"],
        format!("nginx is not listening on port {port}")
    );
}

#[tokio::test]
async fn a_missing_docker_socket_does_not_stop_slipway() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::builder()
        .setting(
            "DOCKER_HOST",
            format!("unix://{}/docker.sock", dir.path().display()),
        )
        .build()
        .await;
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["down"], serde_json::json!(["docker"]), "{body}");
}

#[tokio::test]
async fn an_unreachable_docker_engine_is_reported() {
    // A socket file nobody listens on: what a stopped dockerd leaves behind.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let app = TestApp::builder()
        .setting("DOCKER_HOST", format!("unix://{}", socket.display()))
        .build()
        .await;
    let (status, body) = health(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["down"], serde_json::json!(["docker"]), "{body}");
    assert_eq!(
        body["checks"]["docker"]["error"],
        "the Docker engine did not answer"
    );
}
