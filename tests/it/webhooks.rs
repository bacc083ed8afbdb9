//! Push webhooks: GitHub's signed deliveries and the generic, token-authenticated one, with a
//! real deployment behind them (Docker, a fixture repository on loopback).

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::{
    app::Browser,
    fixtures::{base_image, create_deployment, files, settled, web_app, GitServer},
    TestApp,
};

const PUSH: &str = include_str!("payloads/github-push.json");

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// GitHub's push payload (from its docs) naming `after` on `git_ref`.
fn push(git_ref: &str, after: &str) -> Vec<u8> {
    let mut payload: Value = serde_json::from_str(PUSH).unwrap();
    payload["ref"] = json!(git_ref);
    payload["after"] = json!(after);
    serde_json::to_vec(&payload).unwrap()
}

/// A delivery as GitHub sends it.
async fn deliver(
    app: &TestApp,
    id: &str,
    event: &str,
    delivery: &str,
    body: &[u8],
    signature: Option<String>,
) -> (u16, Value) {
    let mut request = app
        .client
        .post(app.url(&format!("/hooks/github/{id}")))
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/5f0a4e3")
        .header("x-github-event", event)
        .header("x-github-delivery", delivery)
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn releases(browser: &Browser, id: &str) -> Vec<Value> {
    let (status, list) = browser
        .get_json(&format!("/api/v1/deployments/{id}/releases"))
        .await;
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

/// A running deployment of a fixture repository, with its webhook on: (admin, id, secret).
async fn hooked(app: &TestApp, git: &GitServer, name: &str) -> (Browser, String, String, String) {
    let admin = app.with_admin().await;
    let url = git.commit(name, &files(&web_app(base_image().await, "v1")));
    let created = create_deployment(&admin, json!({ "repo_url": url, "subdomain": name })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&admin, &id).await["state"], "running");
    let (status, hook) = admin
        .post_json(&format!("/api/v1/deployments/{id}/webhook"), json!({}))
        .await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["url"], app.url(&format!("/hooks/github/{id}")));
    let secret = hook["secret"].as_str().unwrap().to_owned();
    (admin, id, secret, url)
}

#[tokio::test]
async fn unsigned_or_wrongly_signed_deliveries_other_branches_and_other_events_queue_nothing() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, id, secret, _) = hooked(&app, &git, "hooked").await;
    let head = "a10867b14bb761a232cd80139fbd4c0d33264240";
    let body = push("refs/heads/main", head);

    let (status, _) = deliver(&app, &id, "push", "d-1", &body, None).await;
    assert_eq!(status, 401);
    let (status, _) = deliver(
        &app,
        &id,
        "push",
        "d-1",
        &body,
        Some(sign("not the secret", &body)),
    )
    .await;
    assert_eq!(status, 401);
    // A signature of another body.
    let (status, _) = deliver(&app, &id, "push", "d-1", &body, Some(sign(&secret, b"{}"))).await;
    assert_eq!(status, 401);
    // After a rotation the old secret is refused.
    let (_, rotated) = admin
        .post_json(&format!("/api/v1/deployments/{id}/webhook"), json!({}))
        .await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    let (status, _) = deliver(&app, &id, "push", "d-2", &body, Some(sign(&secret, &body))).await;
    assert_eq!(status, 401);
    assert_eq!(releases(&admin, &id).await.len(), 1, "nothing was queued");

    // Refused deliveries did not use up their ids: the signed "d-1" is new.
    let other = push("refs/heads/feature", head);
    let (status, answer) = deliver(
        &app,
        &id,
        "push",
        "d-1",
        &other,
        Some(sign(&new_secret, &other)),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"], "ignored");
    assert!(answer["detail"]
        .as_str()
        .unwrap()
        .contains("refs/heads/feature"));
    let issues = br#"{"action":"opened"}"#;
    let (status, answer) = deliver(
        &app,
        &id,
        "issues",
        "d-3",
        issues,
        Some(sign(&new_secret, issues)),
    )
    .await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("ignored")));
    let ping = br#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let (status, answer) = deliver(
        &app,
        &id,
        "ping",
        "d-4",
        ping,
        Some(sign(&new_secret, ping)),
    )
    .await;
    assert_eq!((status, answer["outcome"].as_str()), (200, Some("pong")));
    let mut deleted: Value = serde_json::from_str(PUSH).unwrap();
    deleted["deleted"] = json!(true);
    deleted["after"] = json!("0000000000000000000000000000000000000000");
    let deleted = serde_json::to_vec(&deleted).unwrap();
    let (_, answer) = deliver(
        &app,
        &id,
        "push",
        "d-5",
        &deleted,
        Some(sign(&new_secret, &deleted)),
    )
    .await;
    assert_eq!(answer["outcome"], "ignored");
    // Signed, but not a push payload.
    let junk = br#"{"ref":"refs/heads/main","after":"not-a-sha"}"#;
    let (status, answer) = deliver(
        &app,
        &id,
        "push",
        "d-6",
        junk,
        Some(sign(&new_secret, junk)),
    )
    .await;
    assert_eq!(
        (status, answer["outcome"].as_str()),
        (200, Some("refused")),
        "{answer}"
    );
    assert_eq!(releases(&admin, &id).await.len(), 1, "still nothing queued");

    // Every delivery is listed with its outcome; the secret only ever came in the answers
    // that made it.
    let (_, listed) = admin
        .get_json(&format!("/api/v1/deployments/{id}/webhook/deliveries"))
        .await;
    let outcomes: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "refused", "ignored", "pong", "ignored", "ignored", "refused", "refused", "refused",
            "refused"
        ],
        "{listed}"
    );
    let (_, info) = admin
        .get_json(&format!("/api/v1/deployments/{id}/webhook"))
        .await;
    assert_eq!(info["enabled"], true);
    assert!(!info.to_string().contains(&new_secret));
    assert!(!listed.to_string().contains(&new_secret));

    // Someone else cannot see or change it.
    let (_, stranger) = app.user_signed_in(&admin, "stranger").await;
    assert_eq!(
        stranger
            .get_json(&format!("/api/v1/deployments/{id}/webhook"))
            .await
            .0,
        404
    );

    // Switched off: the URL is gone.
    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/deployments/{id}/webhook"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = deliver(
        &app,
        &id,
        "ping",
        "d-7",
        ping,
        Some(sign(&new_secret, ping)),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_signed_push_to_the_tracked_branch_deploys_exactly_that_commit_once() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, id, secret, _) = hooked(&app, &git, "pushed").await;
    let base = base_image().await;
    git.commit("pushed", &files(&web_app(base, "v2")));
    let v2 = git_head(&git, "pushed").await;
    // v3 lands on the branch before v2's delivery arrives: v2 is what is built.
    git.commit("pushed", &files(&web_app(base, "v3")));
    let body = push("refs/heads/main", &v2);
    let (status, answer) = deliver(
        &app,
        &id,
        "push",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        &body,
        Some(sign(&secret, &body)),
    )
    .await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["outcome"], "queued");
    let release_id = answer["release_id"].as_str().unwrap().to_owned();
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "running", "{d}");
    let list = releases(&admin, &id).await;
    assert_eq!(list.len(), 2);
    let second = list.iter().find(|r| r["number"] == 2).unwrap();
    assert_eq!(second["id"], release_id.as_str());
    assert_eq!(
        second["commit_sha"],
        v2.as_str(),
        "exactly the pushed commit: {second}"
    );
    assert_eq!(second["trigger"], "github-hook");
    assert_eq!(second["state"], "running");

    // GitHub's "Redeliver": the same delivery id is deployed once.
    let (status, again) = deliver(
        &app,
        &id,
        "push",
        "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        &body,
        Some(sign(&secret, &body)),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["received_before"], true);
    assert_eq!(again["release_id"], release_id.as_str());
    assert_eq!(releases(&admin, &id).await.len(), 2);
    let (_, listed) = admin
        .get_json(&format!("/api/v1/deployments/{id}/webhook/deliveries"))
        .await;
    assert_eq!(listed[0]["repeats"], 1, "{listed}");
    assert_eq!(listed[0]["commit_sha"], v2.as_str());

    // The audit log names the webhook deploy, with no actor.
    let (_, audit) = admin
        .get_json("/api/v1/audit?action=deployment.webhook_deployed")
        .await;
    assert_eq!(audit[0]["subject"], "pushed", "{audit}");
    assert_eq!(audit[0]["actor"], Value::Null);
}

#[tokio::test]
async fn the_generic_hook_deploys_for_an_api_token_and_an_idempotency_key_makes_retries_safe() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let (admin, id, _, _) = hooked(&app, &git, "generic").await;
    let (_, token) = admin
        .post_json("/api/v1/me/tokens", json!({ "name": "ci" }))
        .await;
    let token = token["token"].as_str().unwrap().to_owned();
    let hook = |key: Option<&str>, body: Option<Value>, bearer: Option<&str>| {
        let mut request = app.client.post(app.url(&format!("/hooks/deploy/{id}")));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(hook(None, None, None).await.0, 401);
    assert_eq!(hook(None, None, Some("slp_not-a-token")).await.0, 401);

    let (status, first) = hook(Some("ci-run-1"), None, Some(&token)).await;
    assert_eq!(status, 202, "{first}");
    let (status, retry) = hook(Some("ci-run-1"), None, Some(&token)).await;
    assert_eq!(status, 200, "{retry}");
    assert_eq!(retry["release_id"], first["release_id"]);
    assert_eq!(settled(&admin, &id).await["state"], "running");
    assert_eq!(releases(&admin, &id).await.len(), 2);

    let head = git_head(&git, "generic").await;
    let (status, body) = hook(
        Some("ci-run-1"),
        Some(json!({ "commit": head })),
        Some(&token),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["idempotency_key"].is_string());
    let (status, body) = hook(
        Some("ci-run-2"),
        Some(json!({ "commit": "abc" })),
        Some(&token),
    )
    .await;
    assert_eq!(status, 422);
    assert!(body["error"]["fields"]["commit"].is_string());

    // A commit that is not on the branch fails its release and says why.
    let stray = "0123456789abcdef0123456789abcdef01234567";
    let (status, queued) = hook(
        Some("ci-run-3"),
        Some(json!({ "commit": stray })),
        Some(&token),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "running", "the live release stays: {d}");
    let third = releases(&admin, &id)
        .await
        .into_iter()
        .find(|r| r["id"] == queued["release_id"])
        .unwrap();
    assert_eq!(third["state"], "failed");
    assert!(
        third["error"]
            .as_str()
            .unwrap()
            .contains("is not on branch `main`"),
        "{third}"
    );
    let (_, audit) = admin
        .get_json("/api/v1/audit?action=deployment.webhook_deployed")
        .await;
    assert_eq!(audit[0]["actor"], "admin", "the token's owner: {audit}");
}

/// The branch's head as the server publishes it. Awaited: the server runs in this process.
async fn git_head(git: &GitServer, name: &str) -> String {
    let output = tokio::process::Command::new("git")
        .arg("ls-remote")
        .arg(git.url(name))
        .arg("refs/heads/main")
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap()[..40].to_owned()
}
