//! What every request gets: request ids, metrics, the 404 page, server functions.

use serde_json::Value;

use crate::support::TestApp;

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_safe_incoming_one_is_kept() {
    let app = TestApp::new().await;
    let generated = app.get("/health").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let kept = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "edge-proxy-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "edge-proxy-1234");

    // Anything that could forge a log line is replaced, not echoed.
    let replaced = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "a b\"c")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "a b\"c");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_in_prometheus_format() {
    let app = TestApp::new().await;
    app.get("/health").await;
    app.get("/definitely/not/here").await;

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="/health""#)
            && l.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("http_requests_total{")
            && l.contains(r#"route="unmatched""#)
            && l.contains(r#"status="404""#)),
        "unknown paths share one label: {text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket{"),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_paths_render_the_404_page_with_status_404() {
    let app = TestApp::new().await;
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(html.contains("/no/such/page"), "names the path");
    assert!(
        html.contains("/pkg/slipway.js"),
        "hydration scripts are included"
    );
}

#[tokio::test]
async fn home_page_is_server_rendered_with_the_platform_status() {
    let app = TestApp::new().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Platform status"), "{html}");
    assert!(html.contains(r#"data-check="redis""#), "{html}");
    assert!(html.contains("<title>Slipway</title>"), "{html}");
}

#[tokio::test]
async fn the_status_server_function_answers_with_the_health_report() {
    let app = TestApp::new().await;
    let response = app
        .client
        .post(app.url("/rpc/platform_status"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["checks"]["docker"]["ok"], true, "{body}");
}

#[tokio::test]
async fn graceful_shutdown_lets_the_server_stop_cleanly() {
    let app = TestApp::new().await;
    let addr = app.addr;
    app.get("/health").await;
    app.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn robots_are_asked_not_to_index_the_control_panel() {
    let app = TestApp::new().await;
    let response = app.get("/robots.txt").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        "User-agent: *\nDisallow: /\n"
    );
}
