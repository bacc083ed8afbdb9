//! The OpenAPI document: valid (checked by openapi-spec-validator from PyPI), the same set of
//! routes as the router, and every answer an operation can give described.

use serde_json::Value;

use crate::support::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let (status, doc) = app.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, 200);
    doc
}

/// Every (method, path) the document describes.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

#[tokio::test]
async fn the_document_is_valid_openapi() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let output = tokio::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .await
        .expect("python3 runs");
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        !said.contains("No module named"),
        "openapi-spec-validator is not installed: run `make setup` ({said})"
    );
    assert!(
        output.status.success(),
        "the document is not valid OpenAPI: {said}"
    );
    assert!(said.contains("OK"), "{said}");
}

#[tokio::test]
async fn every_route_is_documented_with_its_answers_and_every_documented_route_is_served() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let ops = operations(&doc);

    // Router ⊆ document: routes are registered only through `routes!` of annotated handlers,
    // one per documented operation.
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/server/http/api/mod.rs"
    ))
    .unwrap();
    assert!(
        !source.contains(".route(") && !source.contains(".nest_service("),
        "api/mod.rs registers a route outside routes!(), which the document would not show"
    );
    let registered: usize = source
        .split("routes!(")
        .skip(1)
        .map(|call| {
            call.split(')')
                .next()
                .unwrap()
                .split(',')
                .filter(|h| !h.trim().is_empty())
                .count()
        })
        .sum();
    assert_eq!(
        registered,
        ops.len(),
        "handlers registered vs operations documented"
    );

    // Document ⊆ router: each documented operation is served (never the 404 of an unknown
    // path, nor 405), and without credentials a protected one says 401.
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["token"]["scheme"], "bearer");
    for (method, path, op) in &ops {
        let concrete = path
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{slug}", "nope")
            .replace("{key}", "NOPE")
            .replace("{name}", "nope");
        let mut request = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete));
        if method != "get" {
            request = request
                .header("content-type", "application/json")
                .body("{}");
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let allow = format!("{:?}", response.headers().get("allow"));
        let body = response.text().await.unwrap_or_default();
        let public = op["security"] == serde_json::json!([{}]);
        assert_ne!(
            status, 405,
            "{method} {path} is not routed (allow: {allow})"
        );
        if public {
            assert!(
                !(status == 404 && body.contains("not_found")),
                "{method} {path} is documented but not served: {status} {body}"
            );
        } else {
            assert_eq!(status, 401, "{method} {path} without credentials: {body}");
        }

        let responses = op["responses"].as_object().unwrap();
        let answers: Vec<&String> = responses.keys().collect();
        assert!(
            responses.contains_key("500"),
            "{method} {path}: {answers:?}"
        );
        assert_eq!(
            responses["500"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
        if !public {
            assert!(
                responses.contains_key("401"),
                "{method} {path}: {answers:?}"
            );
        }
        if method != "get" {
            assert!(
                responses.contains_key("403"),
                "{method} {path}: cross-site 403"
            );
        }
        assert!(
            responses.keys().any(|k| k.starts_with('2')),
            "{method} {path} documents its success"
        );
        assert!(
            op["summary"].is_string() && op["tags"].is_array(),
            "{method} {path}"
        );
    }
    // The paths the issue names are all there.
    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("get", "/api/v1/deployments/{id}"),
        ("post", "/api/v1/deployments/{id}/webhook"),
        ("get", "/api/v1/deployments/{id}/webhook/deliveries"),
        ("get", "/api/v1/admin/providers"),
        ("get", "/api/v1/audit"),
        ("get", "/api/v1/openapi.json"),
    ] {
        assert!(
            ops.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} documented"
        );
    }
    // An unknown API path answers in the API's error format.
    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_docs_page_lists_every_operation() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let page = app.get("/api/docs").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for (method, path, op) in operations(&doc) {
        let path_html = path.replace('&', "&amp;");
        assert!(html.contains(&path_html), "{path} on the page");
        assert!(
            html.contains(&format!(
                "data-operation=\"{} {path_html}\"",
                method.to_uppercase()
            )),
            "{method} {path} on the page"
        );
        assert!(html.contains(op["summary"].as_str().unwrap().split('`').next().unwrap()));
    }
}
