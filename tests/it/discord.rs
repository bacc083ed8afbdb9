//! Discord Linked Roles and slash commands, against the Discord stand-in: registering the
//! metadata and commands, the verification URL, keeping role connections current (with
//! retries), clearing them, and the signed interactions endpoint.

use std::time::Duration;

use ed25519_dalek::{Signer, SigningKey};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{
    app::Browser,
    fixtures::{
        base_image, create_deployment, delete_deployment, files, settled, web_app, GitServer,
    },
    oauth::{
        callback, to_provider_and_back, DiscordCall, Person, ProviderStandIn, BOT_TOKEN,
        DISCORD_APPLICATION,
    },
    wait, TestApp,
};

const DISCORD_ID: &str = "80351110224678912";

fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn public_key_hex() -> String {
    signing_key()
        .verifying_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn discord_app(sso: &ProviderStandIn) -> (TestApp, Browser) {
    let mut builder = TestApp::builder()
        .setting("DISCORD_BOT_TOKEN", BOT_TOKEN)
        .setting("DISCORD_PUBLIC_KEY", public_key_hex());
    for (var, value) in sso.env_settings() {
        builder = builder.setting(var, value);
    }
    let app = builder.build().await;
    let admin = app.with_admin().await;
    (app, admin)
}

/// Registers Slipway's metadata (as an admin would) and connects `browser`'s account
/// through the verification URL as Discord member `subject`.
async fn connect(
    app: &TestApp,
    admin: &Browser,
    sso: &ProviderStandIn,
    browser: &Browser,
    subject: &str,
) {
    let (status, body) = admin
        .post_json("/api/v1/admin/discord/metadata", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    sso.signs_in(
        "discord",
        Person::new(subject, "member", &format!("{subject}@discord.example")),
    );
    let back = to_provider_and_back(browser, "/discord/linked-role").await;
    assert!(
        back.starts_with(&app.url("/auth/discord/callback")),
        "{back}"
    );
    assert_eq!(callback(browser, &back).await, "/account?discord=connected");
}

async fn wait_for_value(sso: &ProviderStandIn, subject: &str, key: &str, value: &str) {
    wait::until(
        &format!("Discord to hold {key} = {value}"),
        Duration::from_secs(60),
        || async {
            sso.connection(subject)
                .filter(|c| c["metadata"][key] == value)
                .map(|_| ())
        },
    )
    .await;
}

#[tokio::test]
async fn admins_register_the_metadata_and_commands_and_see_what_discord_has() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = discord_app(&sso).await;
    let (status, before) = admin.get_json("/api/v1/admin/discord").await;
    assert_eq!(status, 200, "{before}");
    assert_eq!(before["discord_metadata"], json!([]));
    assert_eq!(before["slipway_metadata"].as_array().unwrap().len(), 3);
    assert_eq!(before["verification_url"], app.url("/discord/linked-role"));
    assert_eq!(before["interactions_url"], app.url("/discord/interactions"));

    let (status, registered) = admin
        .post_json("/api/v1/admin/discord/metadata", json!({}))
        .await;
    assert_eq!(status, 200, "{registered}");
    assert_eq!(
        sso.metadata(),
        json!([
            { "key": "running_deployments", "name": "Running deployments", "description": "Apps running on Slipway at least", "type": 2 },
            { "key": "member_since", "name": "Member for", "description": "Days since joining Slipway", "type": 6 },
            { "key": "is_admin", "name": "Slipway admin", "description": "Runs this Slipway server", "type": 7 },
        ])
    );
    let (_, after) = admin.get_json("/api/v1/admin/discord").await;
    assert_eq!(after["discord_metadata"], after["slipway_metadata"]);

    let (status, commands) = admin
        .post_json("/api/v1/admin/discord/commands", json!({}))
        .await;
    assert_eq!(status, 200, "{commands}");
    let names: Vec<String> = sso
        .commands()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["deployments", "status", "redeploy"]);
    assert_eq!(sso.commands()[1]["options"][0]["required"], true);

    let (_, page) = admin.get_text("/admin/discord").await;
    assert!(page.contains("Linked Roles Verification URL"), "{page}");
    assert!(!page.contains(BOT_TOKEN));

    let (_, user) = app.user_signed_in(&admin, "notadmin").await;
    assert_eq!(
        user.post_json("/api/v1/admin/discord/metadata", json!({}))
            .await
            .0,
        403
    );
    assert_eq!(user.get_json("/api/v1/admin/discord").await.0, 403);
}

#[tokio::test]
async fn the_verification_url_links_discord_and_sends_exactly_the_registered_values() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = discord_app(&sso).await;

    // Signed out: sign in first, then /discord/link goes back to the verification URL.
    let stranger = app.browser();
    let response = stranger
        .client
        .get(stranger.url("/discord/linked-role"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        crate::support::oauth::location(&response),
        "/login?next=/discord/link"
    );
    // A callback where neither the state nor the browser's cookie exist is refused.
    assert_eq!(
        callback(&stranger, &app.url("/auth/discord/callback?code=anything")).await,
        "/login?oauth_error=state_missing"
    );

    let (user_id, ada) = app.user_signed_in(&admin, "ada").await;
    // Discord has only two of Slipway's keys registered: exactly those are sent.
    sso.set_metadata(json!([
        { "key": "running_deployments", "name": "Running", "description": "d", "type": 2 },
        { "key": "is_admin", "name": "Admin", "description": "d", "type": 7 },
    ]));
    sso.signs_in(
        "discord",
        Person::new(DISCORD_ID, "ada-dc", "ada@discord.example"),
    );
    let back = to_provider_and_back(&ada, "/discord/linked-role").await;
    let asked = sso.last_authorize("discord");
    assert_eq!(asked["scope"], "identify role_connections.write");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert!(asked["state"].len() >= 43);
    assert_eq!(callback(&ada, &back).await, "/account?discord=connected");
    assert_eq!(
        sso.connection(DISCORD_ID).unwrap(),
        json!({
            "platform_name": "Slipway",
            "platform_username": "ada",
            "metadata": { "running_deployments": "0", "is_admin": "0" },
        })
    );

    // The account page's view of it, and the identity now linked.
    let (_, mine) = ada.get_json("/api/v1/me/discord").await;
    assert_eq!(mine["connected"], true, "{mine}");
    assert_eq!(mine["linked"], true);
    assert_eq!(mine["values"]["running_deployments"], "0");
    assert!(mine["pushed_at"].is_string());
    let (_, methods) = ada.get_json("/api/v1/me/identities").await;
    assert_eq!(methods["identities"][0]["provider"], "discord");

    // With all three keys registered, the member's account age goes too, as ISO 8601.
    let (status, _) = admin
        .post_json("/api/v1/admin/discord/metadata", json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = ada.post_json("/api/v1/me/discord/refresh", json!({})).await;
    assert_eq!(status, 202);
    let created: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT created_at FROM users WHERE id = $1::uuid")
            .bind(&user_id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    wait_for_value(
        &sso,
        DISCORD_ID,
        "member_since",
        &created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
    .await;
    let (_, page) = ada.get_text("/account").await;
    assert!(
        page.contains("Discord roles"),
        "the account page shows the connection"
    );
}

#[tokio::test]
async fn values_follow_deployments_and_roles_and_an_expired_token_is_refreshed_first() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = discord_app(&sso).await;
    let git = GitServer::start().await;
    let (_, bob) = app.user_signed_in(&admin, "bob").await;
    // Tokens that run out at once: every push must refresh first.
    sso.access_token_lifetime(1);
    connect(&app, &admin, &sso, &bob, DISCORD_ID).await;
    assert_eq!(
        sso.connection(DISCORD_ID).unwrap()["metadata"]["running_deployments"],
        "0"
    );

    let url = git.commit("roles", &files(&web_app(base_image().await, "v1")));
    let created =
        create_deployment(&bob, json!({ "repo_url": url, "subdomain": "bobs-app" })).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let d = settled(&bob, &id).await;
    assert_eq!(d["state"], "running", "{d}");
    wait_for_value(&sso, DISCORD_ID, "running_deployments", "1").await;
    assert!(
        sso.refreshes() >= 1,
        "the expired token was refreshed before the push"
    );

    // A role change is sent too.
    let bob_id = created["owner"]["id"].as_str().unwrap().to_owned();
    let (status, body) = admin
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{bob_id}"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for_value(&sso, DISCORD_ID, "is_admin", "1").await;

    delete_deployment(&admin, &id).await;
    wait_for_value(&sso, DISCORD_ID, "running_deployments", "0").await;

    // One push per change of values: the pipeline's many state changes in between (queued,
    // cloning, building…) send nothing when the values did not change.
    let bodies: Vec<Value> = sso
        .connection_puts(DISCORD_ID)
        .into_iter()
        .map(|(b, _)| b["metadata"].clone())
        .collect();
    let mut distinct = bodies.clone();
    distinct.dedup();
    assert_eq!(
        bodies, distinct,
        "no push repeats the values Discord has: {bodies:?}"
    );
    assert_eq!(
        bodies.len(),
        4,
        "connect, running, admin, deleted: {bodies:?}"
    );
}

#[tokio::test]
async fn a_refused_update_is_retried_with_backoff_and_shown_to_admins() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = discord_app(&sso).await;
    let (carol_id, carol) = app.user_signed_in(&admin, "carol").await;
    // (Role changes below end Carol's sessions; she signs in again to look.)
    connect(&app, &admin, &sso, &carol, DISCORD_ID).await;

    // Discord fails twice, then takes it: 2 s, then 4 s later.
    sso.fail_connections(&[500, 502]);
    admin
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{carol_id}"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    wait::until(
        "a failed push to show for admins",
        Duration::from_secs(20),
        || async {
            let (_, status) = admin.get_json("/api/v1/admin/discord").await;
            status["failures"]
                .as_array()
                .filter(|f| {
                    f.iter()
                        .any(|f| f["username"] == "carol" && f["refused"] == false)
                })
                .map(|_| ())
        },
    )
    .await;
    // A change during the backoff does not cut it short.
    admin
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{carol_id}"),
            Some(json!({ "display_name": "Carol C" })),
        )
        .await;
    wait_for_value(&sso, DISCORD_ID, "is_admin", "1").await;
    let puts = sso.connection_puts(DISCORD_ID);
    let n = puts.len();
    assert!(n >= 4, "connect + 3 attempts: {n}");
    let gap = |i: usize| puts[i].1.duration_since(puts[i - 1].1);
    assert!(
        gap(n - 2) >= Duration::from_millis(1900),
        "first retry after {:?}",
        gap(n - 2)
    );
    assert!(
        gap(n - 1) >= Duration::from_millis(3900),
        "second retry after {:?}",
        gap(n - 1)
    );
    let (_, status) = admin.get_json("/api/v1/admin/discord").await;
    assert_eq!(
        status["failures"],
        json!([]),
        "cleared once it went through"
    );

    // A grant Discord refuses stops the retries and is shown to the member and to admins.
    sso.fail_connections(&[401]);
    admin
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{carol_id}"),
            Some(json!({ "role": "user" })),
        )
        .await;
    wait::until(
        "the refusal to show for admins",
        Duration::from_secs(20),
        || async {
            let (_, status) = admin.get_json("/api/v1/admin/discord").await;
            (status["failures"][0]["refused"] == true).then_some(())
        },
    )
    .await;
    // The role change signed Carol out everywhere; signed in again, she sees it too.
    let carol = app.signed_in("carol", "a long passphrase of carol").await;
    let (_, mine) = carol.get_json("/api/v1/me/discord").await;
    assert_eq!(mine["refused"], true, "{mine}");
    assert!(
        mine["last_error"].as_str().unwrap().contains("401"),
        "{mine}"
    );
    let attempts = sso.connection_puts(DISCORD_ID).len();
    tokio::time::sleep(Duration::from_secs(3)).await; // would hold the 2 s retry
    assert_eq!(
        sso.connection_puts(DISCORD_ID).len(),
        attempts,
        "no retry after a refusal"
    );
}

#[tokio::test]
async fn unlinking_discord_clears_the_role_connection_before_the_grant_is_revoked() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = discord_app(&sso).await;
    let (_, dan) = app.user_signed_in(&admin, "dan").await;
    sso.access_token_lifetime(1);
    connect(&app, &admin, &sso, &dan, DISCORD_ID).await;
    let (status, body) = dan
        .send(Method::DELETE, "/api/v1/me/identities/discord", None)
        .await;
    assert_eq!(status, 204, "{body}");
    let calls = sso.discord_calls();
    let cleared = calls
        .iter()
        .position(|c| matches!(c, DiscordCall::RoleConnection { body, .. } if body == &json!({})))
        .expect("the connection was emptied");
    let revoked = calls
        .iter()
        .position(
            |c| matches!(c, DiscordCall::Revoked { token } if token.starts_with("rt-discord-")),
        )
        .expect("the grant was revoked");
    assert!(cleared < revoked, "cleared, then revoked: {calls:?}");
    assert!(
        sso.refreshes() >= 1,
        "the expired token was renewed to clear the connection"
    );
    let (_, mine) = dan.get_json("/api/v1/me/discord").await;
    assert_eq!(mine["connected"], false);
    assert_eq!(mine["linked"], false);
}

/// An interaction as Discord sends it: signed with the application's key.
async fn interaction(
    app: &TestApp,
    body: &Value,
    key: &SigningKey,
    timestamp: i64,
) -> (u16, Value) {
    let raw = body.to_string();
    let ts = timestamp.to_string();
    let signature = key.sign(format!("{ts}{raw}").as_bytes());
    let hex: String = signature
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let response = app
        .client
        .post(app.url("/discord/interactions"))
        .header("content-type", "application/json")
        .header("x-signature-ed25519", hex)
        .header("x-signature-timestamp", ts)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn command(id: &str, user: &str, name: &str, option: Option<&str>) -> Value {
    let mut data = json!({ "id": "100", "name": name, "type": 1 });
    if let Some(value) = option {
        data["options"] = json!([{ "name": "name", "type": 3, "value": value }]);
    }
    json!({
        "id": id, "application_id": "discord-client-id", "type": 2, "token": format!("itoken-{id}"),
        "version": 1, "guild_id": "1", "data": data,
        "member": { "user": { "id": user, "username": "someone" }, "roles": [] },
    })
}

#[tokio::test]
async fn interactions_must_be_signed_by_the_application_and_ping_gets_pong() {
    let sso = ProviderStandIn::start().await;
    let (app, _admin) = discord_app(&sso).await;
    let ping = json!({ "id": "1", "application_id": "discord-client-id", "type": 1, "token": "t", "version": 1 });
    assert_eq!(
        interaction(&app, &ping, &signing_key(), now()).await,
        (200, json!({ "type": 1 }))
    );

    // Replayed: the same interaction again.
    assert_eq!(interaction(&app, &ping, &signing_key(), now()).await.0, 401);
    // Another key.
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let ping2 = json!({ "id": "2", "type": 1 });
    assert_eq!(interaction(&app, &ping2, &other, now()).await.0, 401);
    // Stale.
    assert_eq!(
        interaction(&app, &ping2, &signing_key(), now() - 600)
            .await
            .0,
        401
    );
    // A flipped byte of a good signature, and missing headers.
    let raw = json!({ "id": "3", "type": 1 }).to_string();
    let ts = now().to_string();
    let mut signature = signing_key()
        .sign(format!("{ts}{raw}").as_bytes())
        .to_bytes();
    signature[10] ^= 1;
    let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
    let flipped = app
        .client
        .post(app.url("/discord/interactions"))
        .header("x-signature-ed25519", hex)
        .header("x-signature-timestamp", &ts)
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(flipped.status(), 401);
    let unsigned = app
        .client
        .post(app.url("/discord/interactions"))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    // The body, not only the signature, is what is checked: a good signature of another body.
    let body = json!({ "id": "4", "type": 1 }).to_string();
    let signature = signing_key()
        .sign(format!("{ts}{body}").as_bytes())
        .to_bytes();
    let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
    let swapped = app
        .client
        .post(app.url("/discord/interactions"))
        .header("x-signature-ed25519", hex)
        .header("x-signature-timestamp", &ts)
        .body(json!({ "id": "5", "type": 1 }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status(), 401);
    // And the first one is still fine with a fresh id.
    let ping6 = json!({ "id": "6", "type": 1 });
    assert_eq!(
        interaction(&app, &ping6, &signing_key(), now()).await.0,
        200
    );
}

#[tokio::test]
async fn slash_commands_answer_for_the_linked_account_and_redeploy_only_its_own() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = discord_app(&sso).await;
    let git = GitServer::start().await;
    let (_, eve) = app.user_signed_in(&admin, "eve").await;
    connect(&app, &admin, &sso, &eve, DISCORD_ID).await;
    let base = base_image().await;
    let mine = create_deployment(
        &eve,
        json!({ "name": "Eve's blog", "repo_url": git.commit("blog", &files(&web_app(base, "v1"))), "subdomain": "eve-blog" }),
    )
    .await;
    let theirs = create_deployment(
        &admin,
        json!({ "name": "Admin tools", "repo_url": git.commit("tools", &files(&web_app(base, "v1"))), "subdomain": "admin-tools" }),
    )
    .await;
    let mine_id = mine["id"].as_str().unwrap().to_owned();
    settled(&eve, &mine_id).await;
    settled(&admin, theirs["id"].as_str().unwrap()).await;

    // Unlinked members are told where to link.
    let (status, answer) = interaction(
        &app,
        &command("u1", "111", "deployments", None),
        &signing_key(),
        now(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["type"], 4);
    assert_eq!(answer["data"]["flags"], 64, "only the asker sees it");
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains(&app.url("/discord/linked-role")),
        "{answer}"
    );
    for (id, name, option) in [
        ("u2", "status", Some("eve-blog")),
        ("u3", "redeploy", Some("eve-blog")),
    ] {
        let (_, answer) = interaction(
            &app,
            &command(id, "111", name, option),
            &signing_key(),
            now(),
        )
        .await;
        assert!(
            answer["data"]["content"]
                .as_str()
                .unwrap()
                .contains("not linked"),
            "{answer}"
        );
    }

    let (_, answer) = interaction(
        &app,
        &command("l1", DISCORD_ID, "deployments", None),
        &signing_key(),
        now(),
    )
    .await;
    let content = answer["data"]["content"].as_str().unwrap();
    assert!(
        content.contains("Eve's blog") && content.contains("running"),
        "{content}"
    );
    assert!(!content.contains("Admin tools"), "only hers: {content}");

    let (_, answer) = interaction(
        &app,
        &command("l2", DISCORD_ID, "status", Some("EVE-BLOG")),
        &signing_key(),
        now(),
    )
    .await;
    let content = answer["data"]["content"].as_str().unwrap();
    assert!(
        content.contains("running") && content.contains("release #1"),
        "{content}"
    );
    assert!(content.contains("http://eve-blog."), "{content}");
    let (_, answer) = interaction(
        &app,
        &command("l3", DISCORD_ID, "status", Some("admin-tools")),
        &signing_key(),
        now(),
    )
    .await;
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("no deployment named"),
        "{answer}"
    );

    // Someone else's deployment: refused, and nothing is queued.
    let releases = |id: String| {
        let admin = &admin;
        async move {
            admin
                .get_json(&format!("/api/v1/deployments/{id}/releases"))
                .await
                .1
                .as_array()
                .unwrap()
                .len()
        }
    };
    let before = releases(theirs["id"].as_str().unwrap().to_owned()).await;
    let (_, answer) = interaction(
        &app,
        &command("l4", DISCORD_ID, "redeploy", Some("admin-tools")),
        &signing_key(),
        now(),
    )
    .await;
    assert_eq!(answer["type"], 4);
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("only redeploy your own"),
        "{answer}"
    );
    assert_eq!(
        releases(theirs["id"].as_str().unwrap().to_owned()).await,
        before
    );

    // Her own: a deferred answer, edited, then a follow-up once the release is live.
    let (_, answer) = interaction(
        &app,
        &command("l5", DISCORD_ID, "redeploy", Some("Eve's blog")),
        &signing_key(),
        now(),
    )
    .await;
    assert_eq!(answer, json!({ "type": 5, "data": { "flags": 64 } }));
    wait::until("the follow-up", Duration::from_secs(120), || async {
        sso.discord_calls()
            .into_iter()
            .find_map(|c| match c {
                DiscordCall::FollowUp { token, body } if token == "itoken-l5" => Some(body),
                _ => None,
            })
            .filter(|b| {
                b["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("release #2 is live")
            })
    })
    .await;
    assert!(sso.discord_calls().iter().any(|c| matches!(c,
        DiscordCall::EditOriginal { token, body } if token == "itoken-l5"
            && body["content"].as_str().unwrap_or_default().contains("release #2"))));
    assert_eq!(releases(mine_id.clone()).await, 2);
}

#[tokio::test]
async fn make_discord_register_and_discord_commands_need_only_the_settings() {
    let sso = ProviderStandIn::start().await;
    let base = sso.base();
    let (code, out) = run_task(&base, "discord-register", None, "1234").await;
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("DISCORD_BOT_TOKEN"), "{out}");
    // Another application's id: Discord's refusal is said, the token never printed.
    let (code, out) = run_task(&base, "discord-register", Some(BOT_TOKEN), "1234").await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("401"), "{out}");
    assert!(!out.contains(BOT_TOKEN), "{out}");
    assert_eq!(sso.metadata(), json!([]));

    let (code, out) = run_task(
        &base,
        "discord-register",
        Some(BOT_TOKEN),
        DISCORD_APPLICATION,
    )
    .await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("running_deployments"), "{out}");
    assert_eq!(sso.metadata().as_array().unwrap().len(), 3);
    let (code, out) = run_task(
        &base,
        "discord-commands",
        Some(BOT_TOKEN),
        DISCORD_APPLICATION,
    )
    .await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("/redeploy"), "{out}");
    assert_eq!(sso.commands().as_array().unwrap().len(), 3);
    assert!(!out.contains(BOT_TOKEN));
}

/// Runs `slipway <task>` with only the settings it needs. The binary talks to the stand-in
/// in this process: it is awaited, never blocked on.
async fn run_task(base: &str, task: &str, bot: Option<&str>, app: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .arg(task)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("REDIS_URL", "redis://127.0.0.1:1/0")
        .env("SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .env("DISCORD_APPLICATION_ID", app)
        .env("DISCORD_API_BASE", format!("{base}/discord/api/v10"));
    if let Some(bot) = bot {
        command.env("DISCORD_BOT_TOKEN", bot);
    }
    let output = command.output().await.unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}
