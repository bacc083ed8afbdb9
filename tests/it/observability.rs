//! The audit log and the metrics: every audited action leaves an entry naming who, from
//! where, when and on what; `/metrics` has the series an operator watches.

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::support::{
    app::{Browser, ADMIN_PASSWORD},
    fixtures::{
        base_image, create_deployment, delete_deployment, files, settled, web_app, GitServer,
    },
    oauth::{sign_in_with, Person, ProviderStandIn},
    wait, TestApp,
};

async fn audit(admin: &Browser, query: &str) -> Vec<Value> {
    let (status, entries) = admin
        .get_json(&format!("/api/v1/audit?limit=200&{query}"))
        .await;
    assert_eq!(status, 200, "{entries}");
    entries.as_array().unwrap().clone()
}

/// The newest entry of `action`, which must name `actor` and `subject`, from loopback, now.
async fn entry(admin: &Browser, action: &str, actor: Option<&str>, subject: Option<&str>) -> Value {
    let entries = audit(admin, &format!("action={action}")).await;
    let e = entries
        .first()
        .unwrap_or_else(|| panic!("no {action} entry"))
        .clone();
    assert_eq!(e["action"], action);
    assert_eq!(e["actor"].as_str(), actor, "{action}: {e}");
    assert_eq!(e["subject"].as_str(), subject, "{action}: {e}");
    assert_eq!(e["ip"], "127.0.0.1", "{action}: {e}");
    let at = chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap();
    assert!(
        (chrono::Utc::now() - at.with_timezone(&chrono::Utc)).num_seconds() < 300,
        "{action} is recent: {e}"
    );
    e
}

#[tokio::test]
async fn every_audited_action_leaves_its_entry_with_actor_ip_time_and_target() {
    let sso = ProviderStandIn::start().await;
    let mut builder = TestApp::builder();
    for (var, value) in sso.env_settings() {
        builder = builder.setting(var, value);
    }
    let app = builder.build().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;

    // Admin actions.
    admin
        .send(
            Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": "invite" })),
        )
        .await;
    entry(&admin, "admin.registration_changed", Some("admin"), None).await;
    let (_, ivy) = admin
        .post_json(
            "/api/v1/users",
            json!({ "username": "ivy", "email": "ivy@example.com", "password": "ivy's long passphrase", "role": "user" }),
        )
        .await;
    let ivy_id = ivy["id"].as_str().unwrap().to_owned();
    entry(&admin, "admin.user_created", Some("admin"), Some("ivy")).await;
    admin
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{ivy_id}"),
            Some(json!({ "display_name": "Ivy" })),
        )
        .await;
    entry(&admin, "admin.user_updated", Some("admin"), Some("ivy")).await;
    admin
        .post_json(
            &format!("/api/v1/users/{ivy_id}/password-reset"),
            json!({ "password": "ivy's second passphrase" }),
        )
        .await;
    entry(&admin, "admin.password_reset", Some("admin"), Some("ivy")).await;
    admin.post_json("/api/v1/invites", json!({})).await;
    entry(&admin, "admin.invite_created", Some("admin"), None).await;
    let (status, _) = admin
        .post_json("/api/v1/admin/providers", sso.oidc_body("corp"))
        .await;
    assert_eq!(status, 201);
    entry(
        &admin,
        "admin.provider_created",
        Some("admin"),
        Some("corp"),
    )
    .await;
    admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/corp",
            Some(json!({ "display_name": "Corp" })),
        )
        .await;
    entry(
        &admin,
        "admin.provider_updated",
        Some("admin"),
        Some("corp"),
    )
    .await;
    admin
        .send(Method::DELETE, "/api/v1/admin/providers/corp", None)
        .await;
    entry(
        &admin,
        "admin.provider_deleted",
        Some("admin"),
        Some("corp"),
    )
    .await;

    // Sign-ins: failed, throttled after a lock-out, succeeded; sign-out.
    let stranger = app.browser();
    for _ in 0..10 {
        stranger
            .post_json(
                "/api/v1/auth/login",
                json!({ "login": "ivy", "password": "not ivy's password at all" }),
            )
            .await;
    }
    entry(&admin, "login.failed", None, Some("ivy")).await;
    entry(&admin, "login.locked_out", None, Some("ivy")).await;
    let (status, _) = stranger
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": "ivy", "password": "ivy's second passphrase" }),
        )
        .await;
    assert_eq!(status, 429);
    entry(&admin, "login.throttled", None, Some("ivy")).await;
    let me = app.signed_in("admin", ADMIN_PASSWORD).await;
    entry(&admin, "login.succeeded", Some("admin"), Some("admin")).await;
    me.post_json("/api/v1/auth/logout", json!({})).await;
    entry(&admin, "logout", Some("admin"), None).await;

    // My own account: sessions, tokens, email, password, providers.
    let _laptop = app.signed_in("admin", ADMIN_PASSWORD).await;
    let (_, sessions) = admin.get_json("/api/v1/me/sessions").await;
    let other = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .expect("the laptop's session");
    admin
        .send(
            Method::DELETE,
            &format!("/api/v1/me/sessions/{other}"),
            None,
        )
        .await;
    entry(&admin, "session.revoked", Some("admin"), None).await;
    let (_, token) = admin
        .post_json("/api/v1/me/tokens", json!({ "name": "ci" }))
        .await;
    let token_value = token["token"].as_str().unwrap().to_owned();
    entry(&admin, "token.created", Some("admin"), Some("ci")).await;
    let (status, _) = admin
        .send(
            Method::PATCH,
            "/api/v1/me",
            Some(json!({ "email": "root@example.com" })),
        )
        .await;
    assert_eq!(status, 200);
    entry(&admin, "user.email_changed", Some("admin"), Some("admin")).await;
    sso.signs_in(
        "github",
        Person::new("4711", "admin-gh", "admin-gh@example.org"),
    );
    assert_eq!(
        sign_in_with(&admin, "/auth/github/start?intent=link").await,
        "/account"
    );
    entry(&admin, "identity.linked", Some("admin"), Some("admin")).await;
    admin
        .send(Method::DELETE, "/api/v1/me/identities/github", None)
        .await;
    entry(&admin, "identity.unlinked", Some("admin"), Some("admin")).await;
    admin
        .post_json(
            "/api/v1/me/password",
            json!({ "current_password": ADMIN_PASSWORD, "new_password": "an even longer admin passphrase" }),
        )
        .await;
    entry(&admin, "password.changed", Some("admin"), Some("admin")).await;

    // Deployments: create, redeploy, rollback, stop, start, webhook, webhook deploys, delete.
    let url = git.commit("audited", &files(&web_app(base_image().await, "v1")));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "audited" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    entry(&admin, "deployment.created", Some("admin"), Some("audited")).await;
    settled(&admin, &id).await;
    admin
        .post_json(&format!("/api/v1/deployments/{id}/redeploy"), json!({}))
        .await;
    entry(
        &admin,
        "deployment.redeployed",
        Some("admin"),
        Some("audited"),
    )
    .await;
    settled(&admin, &id).await;
    let (_, releases) = admin
        .get_json(&format!("/api/v1/deployments/{id}/releases"))
        .await;
    let first = releases
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["number"] == 1)
        .unwrap()["id"]
        .clone();
    let (status, body) = admin
        .post_json(
            &format!("/api/v1/deployments/{id}/rollback"),
            json!({ "release_id": first }),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    entry(
        &admin,
        "deployment.rolled_back",
        Some("admin"),
        Some("audited"),
    )
    .await;
    settled(&admin, &id).await;
    // A refused stop (nothing wrong with asking) leaves no entry; a real one does.
    let (status, _) = admin
        .post_json(&format!("/api/v1/deployments/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, 200);
    entry(&admin, "deployment.stopped", Some("admin"), Some("audited")).await;
    admin
        .post_json(&format!("/api/v1/deployments/{id}/start"), json!({}))
        .await;
    entry(&admin, "deployment.started", Some("admin"), Some("audited")).await;
    let (_, hook) = admin
        .post_json(&format!("/api/v1/deployments/{id}/webhook"), json!({}))
        .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    entry(
        &admin,
        "deployment.webhook_enabled",
        Some("admin"),
        Some("audited"),
    )
    .await;
    let generic = app
        .client
        .post(app.url(&format!("/hooks/deploy/{id}")))
        .bearer_auth(&token_value)
        .send()
        .await
        .unwrap();
    assert_eq!(generic.status(), 202);
    let e = entry(
        &admin,
        "deployment.webhook_deployed",
        Some("admin"),
        Some("audited"),
    )
    .await;
    assert_eq!(e["details"]["source"], "generic");
    settled(&admin, &id).await;
    let body = br#"{"ref":"refs/heads/main","after":"0123456789abcdef0123456789abcdef01234567"}"#;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let github = app
        .client
        .post(app.url(&format!("/hooks/github/{id}")))
        .header("x-github-event", "push")
        .header("x-github-delivery", "audit-1")
        .header("x-hub-signature-256", format!("sha256={signature}"))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(github.status(), 202);
    let e = entry(&admin, "deployment.webhook_deployed", None, Some("audited")).await;
    assert_eq!(e["details"]["source"], "github");
    settled(&admin, &id).await;
    delete_deployment(&admin, &id).await;
    entry(&admin, "deployment.deleted", Some("admin"), Some("audited")).await;

    // The user deletion last: the actor's name survives the account.
    let (olive_id, olive) = app.user_signed_in(&admin, "olive").await;
    olive
        .post_json("/api/v1/me/tokens", json!({ "name": "olive's" }))
        .await;
    admin
        .send(Method::DELETE, &format!("/api/v1/users/{olive_id}"), None)
        .await;
    let (status, _) = admin
        .send(Method::DELETE, &format!("/api/v1/users/{ivy_id}"), None)
        .await;
    assert_eq!(status, 204);
    entry(&admin, "admin.user_deleted", Some("admin"), Some("ivy")).await;
    let olives = audit(&admin, "actor=olive&action=token.created").await;
    assert_eq!(olives.len(), 1, "{olives:?}");
    assert_eq!(olives[0]["actor"], "olive");

    // Filters narrow the log; no secret is in it.
    let logins = audit(&admin, "action=login").await;
    assert!(logins.len() >= 4);
    assert!(logins
        .iter()
        .all(|e| e["action"].as_str().unwrap().starts_with("login.")));
    let by_subject = audit(&admin, "subject=audited").await;
    assert!(by_subject.iter().all(|e| e["subject"] == "audited") && by_subject.len() >= 9);
    let none = audit(&admin, "until=2000-01-01T00:00:00Z").await;
    assert!(none.is_empty());
    let (status, body) = admin.get_json("/api/v1/audit?since=yesterday").await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["since"].is_string());
    let everything = audit(&admin, "").await;
    let text = serde_json::to_string(&everything).unwrap();
    for secret in [
        ADMIN_PASSWORD,
        "ivy's second passphrase",
        "an even longer admin passphrase",
        &token_value,
        &secret,
        &crate::support::oauth::client_secret("oidc"),
    ] {
        assert!(!text.contains(secret), "{secret} is in the audit log");
    }
}

#[tokio::test]
async fn metrics_cover_deployments_releases_builds_checks_webhooks_sessions_logins_and_viewers() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let url = git.commit("measured", &files(&web_app(base_image().await, "v1")));
    let created =
        create_deployment(&admin, json!({ "repo_url": url, "subdomain": "measured" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(settled(&admin, &id).await["state"], "running");
    admin
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": "admin", "password": "wrong, very wrong" }),
        )
        .await;
    app.signed_in("admin", ADMIN_PASSWORD).await;
    admin
        .post_json(&format!("/api/v1/deployments/{id}/webhook"), json!({}))
        .await;
    let refused = app
        .client
        .post(app.url(&format!("/hooks/github/{id}")))
        .header("x-github-event", "push")
        .header("x-github-delivery", "m-1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    // An open live stream.
    let stream = admin
        .client
        .get(admin.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);

    let metrics = app.get("/metrics").await.text().await.unwrap();
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{series} is not in /metrics:\n{metrics}"))
    };
    assert!(value("deployments{state=\"running\"}") >= 1.0);
    value("deployments{state=\"failed\"}");
    assert!(value("releases_total{outcome=\"running\"}") >= 1.0);
    assert!(value("build_duration_seconds_count") >= 1.0);
    assert!(value("health_check_duration_seconds_count") >= 1.0);
    assert!(value("webhook_deliveries_total{source=\"github\",outcome=\"refused\"}") >= 1.0);
    assert!(value("active_sessions") >= 2.0);
    assert!(value("login_failures_total") >= 1.0);
    assert!(value("logins_total{method=\"password\"}") >= 1.0);
    assert!(value("sse_viewers") >= 1.0);
    for name in [
        "deployments",
        "releases_total",
        "build_duration_seconds",
        "health_check_duration_seconds",
        "webhook_deliveries_total",
        "active_sessions",
        "login_failures_total",
        "logins_total",
        "sse_viewers",
    ] {
        assert!(
            metrics.contains(&format!("# HELP {name} ")),
            "HELP for {name}"
        );
    }

    // The stream gone and the deployment deleted: the gauges follow.
    drop(stream);
    delete_deployment(&admin, &id).await;
    wait::until("the gauges to drop", Duration::from_secs(20), || async {
        let metrics = app.get("/metrics").await.text().await.unwrap();
        let running = metrics
            .lines()
            .find(|l| l.starts_with("deployments{state=\"running\"} "))
            .map(|l| l.ends_with(" 0"));
        (running == Some(true)).then_some(())
    })
    .await;
}
