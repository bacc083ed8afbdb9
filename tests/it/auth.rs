//! Registration, sign-in, sessions and the rules that keep them safe, through the REST API.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{
    app::{json_of, ADMIN_PASSWORD},
    wait, TestApp,
};

const PASSWORD: &str = "correct horse battery staple";

async fn open_registration(app: &TestApp) {
    sqlx::query("INSERT INTO settings (key, value) VALUES ('registration', '\"open\"')")
        .execute(&app.state.db)
        .await
        .unwrap();
}

fn user(name: &str) -> Value {
    json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD })
}

/// The `slipway` session cookie a response set, as `name=value`.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("slipway="))
        .map(|c| c.split(';').next().unwrap().to_owned())
}

async fn login_raw(
    app: &TestApp,
    login: &str,
    password: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "login": login, "password": password }));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn me_with(app: &TestApp, cookie: &str) -> u16 {
    app.client
        .get(app.url("/api/v1/me"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_first_account_needs_the_setup_token_and_becomes_admin() {
    let app = TestApp::new().await;
    let token = app.setup_token();
    assert!(token.len() >= 32, "a long random token: {token}");
    let browser = app.browser();

    let (status, body) = browser
        .post_json("/api/v1/auth/register", user("first"))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["setup_token"].is_string(), "{body}");

    let mut wrong = user("first");
    wrong["setup_token"] = json!("not-the-token");
    let (status, _) = browser.post_json("/api/v1/auth/register", wrong).await;
    assert_eq!(status, 422);

    let mut right = user("first");
    right["setup_token"] = json!(token);
    let (status, body) = browser
        .post_json("/api/v1/auth/register", right.clone())
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["role"], "admin");
    assert_eq!(body["username"], "first");
    assert!(
        !app.data_dir().join("setup-token").exists(),
        "the token file goes with its use"
    );

    // Signed in by registering.
    let (status, me) = browser.get_json("/api/v1/me").await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "first@example.com");

    // The token dies with its use, and registration is closed once an admin exists.
    right["username"] = json!("second");
    right["email"] = json!("second@example.com");
    let (status, body) = app
        .browser()
        .post_json("/api/v1/auth/register", right)
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
}

#[tokio::test]
async fn bad_registration_input_names_every_field() {
    let app = TestApp::new().await;
    app.with_admin().await;
    open_registration(&app).await;
    let (status, body) = app
        .browser()
        .post_json(
            "/api/v1/auth/register",
            json!({ "username": "-x", "email": "nope", "password": "short" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let fields = &body["error"]["fields"];
    for field in ["username", "email", "password"] {
        assert!(fields[field].is_string(), "{field}: {body}");
    }
    assert_eq!(fields["password"], "must be at least 12 characters");
}

#[tokio::test]
async fn common_passwords_and_a_password_equal_to_the_username_are_refused() {
    let app = TestApp::new().await;
    app.with_admin().await;
    open_registration(&app).await;
    let browser = app.browser();

    let (status, body) = browser
        .post_json(
            "/api/v1/auth/register",
            json!({ "username": "bob", "email": "bob@example.com", "password": "1qaz2wsx3edc" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("common"),
        "{body}"
    );

    let (status, body) = browser
        .post_json(
            "/api/v1/auth/register",
            json!({ "username": "bob.the.builder", "email": "bob@example.com", "password": "Bob.The.Builder" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["password"]
            .as_str()
            .unwrap()
            .contains("username"),
        "{body}"
    );
}

#[tokio::test]
async fn taken_usernames_and_emails_are_field_errors_whatever_their_case() {
    let app = TestApp::new().await;
    app.with_admin().await;
    open_registration(&app).await;
    let (status, _) = app
        .browser()
        .post_json("/api/v1/auth/register", user("carol"))
        .await;
    assert_eq!(status, 201);

    let mut same_name = user("CAROL");
    same_name["email"] = json!("other@example.com");
    let (status, body) = app
        .browser()
        .post_json("/api/v1/auth/register", same_name)
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"]["username"], "is already taken");

    let mut same_email = user("carol2");
    same_email["email"] = json!("Carol@Example.com");
    let (status, body) = app
        .browser()
        .post_json("/api/v1/auth/register", same_email)
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["email"].is_string(), "{body}");
}

#[tokio::test]
async fn login_works_by_username_or_email_and_failures_look_the_same() {
    let app = TestApp::new().await;
    app.with_admin().await;

    for login in ["admin", "ADMIN@example.com"] {
        let response = login_raw(&app, login, ADMIN_PASSWORD, None).await;
        assert_eq!(response.status(), 200, "{login}");
    }

    let wrong_password =
        json_of(login_raw(&app, "admin", "not the admin password", None).await).await;
    let unknown_user =
        json_of(login_raw(&app, "nobody", "not the admin password", None).await).await;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(
        wrong_password, unknown_user,
        "no difference between the two"
    );
    assert_eq!(wrong_password.1["error"]["code"], "invalid_credentials");
}

#[tokio::test]
async fn long_passwords_are_never_truncated() {
    let app = TestApp::new().await;
    let long = "p".repeat(100);
    let browser = app.browser();
    let (status, body) = browser
        .post_json(
            "/api/v1/auth/register",
            json!({ "username": "longpw", "email": "l@example.com", "password": long, "setup_token": app.setup_token() }),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    assert_eq!(
        login_raw(&app, "longpw", &format!("{long}x"), None)
            .await
            .status(),
        401
    );
    assert_eq!(
        login_raw(&app, "longpw", &long[..72], None).await.status(),
        401
    );
    assert_eq!(login_raw(&app, "longpw", &long, None).await.status(), 200);
}

#[tokio::test]
async fn logout_deletes_the_session_so_a_replayed_cookie_gets_401() {
    let app = TestApp::new().await;
    app.with_admin().await;
    let response = login_raw(&app, "admin", ADMIN_PASSWORD, None).await;
    let cookie = session_cookie(&response).expect("a session cookie");
    assert_eq!(me_with(&app, &cookie).await, 200);

    let logout = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);
    let cleared = logout.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str().unwrap().starts_with("slipway=;") || c.to_str().unwrap().contains("Max-Age=0")
    });
    assert!(cleared, "the cookie is cleared");

    assert_eq!(
        me_with(&app, &cookie).await,
        401,
        "the old cookie is dead server-side"
    );
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id() {
    let app = TestApp::new().await;
    app.with_admin().await;
    let first = session_cookie(&login_raw(&app, "admin", ADMIN_PASSWORD, None).await).unwrap();
    // Signing in again while holding a session id must not keep that id.
    let second = session_cookie(&login_raw(&app, "admin", ADMIN_PASSWORD, Some(&first)).await)
        .expect("a new cookie");
    assert_ne!(first, second);
    assert_eq!(me_with(&app, &first).await, 401, "the old id is gone");
    assert_eq!(me_with(&app, &second).await, 200);
}

#[tokio::test]
async fn the_session_cookie_is_httponly_and_samesite_lax() {
    let app = TestApp::new().await;
    app.with_admin().await;
    let response = login_raw(&app, "admin", ADMIN_PASSWORD, None).await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("slipway="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
}

#[tokio::test]
async fn cross_origin_state_changes_are_refused() {
    let app = TestApp::new().await;
    app.with_admin().await;
    let body = json!({ "login": "admin", "password": ADMIN_PASSWORD });

    let evil = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    assert!(session_cookie(&evil).is_none());

    let fetch_cross_site = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("sec-fetch-site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_cross_site.status(), 403);

    // Server functions are endpoints too.
    let server_fn = app
        .client
        .post(app.url("/rpc/platform_status"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(server_fn.status(), 403);

    let same_origin = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("origin", format!("http://{}", app.addr))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 200);
}

#[tokio::test]
async fn hello_is_for_signed_in_users_only() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/api/v1/hello").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");

    let admin = app.with_admin().await;
    let (status, body) = admin.get_json("/api/v1/hello").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "message": "hello world" }));
}

#[tokio::test]
async fn a_disabled_users_live_session_dies_at_once() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    assert_eq!(admin.get_json("/api/v1/me").await.0, 200);

    sqlx::query("UPDATE users SET disabled_at = now() WHERE username = 'admin'")
        .execute(&app.state.db)
        .await
        .unwrap();
    assert_eq!(admin.get_json("/api/v1/me").await.0, 401);
    // Enabled again, the old session stays dead: it was deleted, not just refused.
    sqlx::query("UPDATE users SET disabled_at = NULL WHERE username = 'admin'")
        .execute(&app.state.db)
        .await
        .unwrap();
    assert_eq!(admin.get_json("/api/v1/me").await.0, 401);
    assert_eq!(
        login_raw(&app, "admin", ADMIN_PASSWORD, None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_weaker_stored_hash_is_upgraded_at_the_next_login() {
    use argon2::{password_hash::PasswordHasher, Algorithm, Argon2, Params, Version};

    let app = TestApp::new().await;
    app.with_admin().await;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes())
    .unwrap()
    .to_string();
    sqlx::query("INSERT INTO users (username, email, password_hash) VALUES ('legacy', 'legacy@example.com', $1)")
        .bind(&weak)
        .execute(&app.state.db)
        .await
        .unwrap();

    assert_eq!(
        login_raw(&app, "legacy", PASSWORD, None).await.status(),
        200
    );
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'legacy'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(stored.contains("m=19456,t=2,p=1"), "upgraded: {stored}");
    assert_eq!(
        login_raw(&app, "legacy", PASSWORD, None).await.status(),
        200,
        "and still works"
    );
}

#[tokio::test]
async fn sessions_end_at_the_absolute_timeout_however_active() {
    let app = TestApp::builder()
        .setting("SESSION_ABSOLUTE_TIMEOUT_SECS", "2")
        .build()
        .await;
    let admin = app.with_admin().await;
    assert_eq!(admin.get_json("/api/v1/me").await.0, 200);
    wait::until("the session to expire", Duration::from_secs(10), || async {
        (admin.get_json("/api/v1/me").await.0 == 401).then_some(())
    })
    .await;
}

#[tokio::test]
async fn failed_and_successful_logins_are_audited() {
    let app = TestApp::new().await;
    app.with_admin().await;
    login_raw(&app, "admin", "wrong password entirely", None).await;
    login_raw(&app, "admin", ADMIN_PASSWORD, None).await;
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        actions,
        ["user.registered", "login.failed", "login.succeeded"]
    );
}

#[tokio::test]
async fn ten_failures_lock_the_account_with_retry_after_and_success_resets_the_count() {
    let app = TestApp::new().await;
    app.with_admin().await;
    open_registration(&app).await;
    app.browser()
        .post_json("/api/v1/auth/register", user("dora"))
        .await;

    // Nine failures, then a success: the count starts again.
    for _ in 0..9 {
        assert_eq!(
            login_raw(&app, "dora", "wrong password, sorry", None)
                .await
                .status(),
            401
        );
    }
    assert_eq!(login_raw(&app, "dora", PASSWORD, None).await.status(), 200);
    for _ in 0..9 {
        assert_eq!(
            login_raw(&app, "dora", "wrong password, sorry", None)
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        login_raw(&app, "dora", PASSWORD, None).await.status(),
        200,
        "still not locked"
    );

    for _ in 0..10 {
        assert_eq!(
            login_raw(&app, "dora", "wrong password, sorry", None)
                .await
                .status(),
            401
        );
    }
    // Locked now, even with the right password, and by email as well as by name.
    for login in ["dora", "DORA@example.com"] {
        let response = login_raw(&app, login, PASSWORD, None).await;
        assert_eq!(response.status(), 429, "{login}");
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        let (_, body) = json_of(response).await;
        assert_eq!(body["error"]["code"], "too_many_requests");
    }
    // Other accounts are not affected.
    assert_eq!(
        login_raw(&app, "admin", ADMIN_PASSWORD, None)
            .await
            .status(),
        200
    );

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action IN ('login.locked_out', 'login.throttled')",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        ["login.locked_out", "login.throttled", "login.throttled"]
    );
}

#[tokio::test]
async fn a_hundred_failures_from_one_address_stop_that_address() {
    let app = TestApp::new().await;
    app.with_admin().await;
    // Spread over many names, so no single account locks first.
    for i in 0..100 {
        let status = login_raw(
            &app,
            &format!("guess{}", i % 20),
            "some password guess",
            None,
        )
        .await
        .status();
        assert_eq!(status, 401, "attempt {i}");
    }
    let response = login_raw(&app, "admin", ADMIN_PASSWORD, None).await;
    assert_eq!(
        response.status(),
        429,
        "the address is stopped, whatever the account"
    );
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn i_can_list_my_sessions_and_revoke_one() {
    let app = TestApp::new().await;
    let laptop = app.with_admin().await;
    let phone = app.browser();
    let (status, _) = phone
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": "admin", "password": ADMIN_PASSWORD }),
        )
        .await;
    assert_eq!(status, 200);

    let (status, sessions) = laptop.get_json("/api/v1/me/sessions").await;
    assert_eq!(status, 200, "{sessions}");
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["ip"], "127.0.0.1");
    assert!(other["signed_in_at"].is_string());

    let revoke = laptop
        .client
        .delete(app.url(&format!(
            "/api/v1/me/sessions/{}",
            other["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert_eq!(
        phone.get_json("/api/v1/me").await.0,
        401,
        "the phone is signed out"
    );
    assert_eq!(
        laptop.get_json("/api/v1/me").await.0,
        200,
        "the laptop is not"
    );

    let again = laptop
        .client
        .delete(app.url(&format!(
            "/api/v1/me/sessions/{}",
            other["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn another_users_session_cannot_be_revoked() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    open_registration(&app).await;
    let eve = app.browser();
    assert_eq!(
        eve.post_json("/api/v1/auth/register", user("eve")).await.0,
        201
    );

    let (_, sessions) = admin.get_json("/api/v1/me/sessions").await;
    let admin_session = sessions[0]["id"].as_str().unwrap().to_owned();
    let response = eve
        .client
        .delete(app.url(&format!("/api/v1/me/sessions/{admin_session}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(admin.get_json("/api/v1/me").await.0, 200);
}

#[tokio::test]
async fn changing_the_password_signs_out_every_other_session() {
    let app = TestApp::new().await;
    let laptop = app.with_admin().await;
    let phone = app.browser();
    phone
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": "admin", "password": ADMIN_PASSWORD }),
        )
        .await;
    let new_password = "a brand new passphrase";

    let (status, body) = laptop
        .post_json(
            "/api/v1/me/password",
            json!({ "current_password": "not the current one", "new_password": new_password }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["current_password"].is_string(),
        "{body}"
    );

    let (status, body) = laptop
        .post_json(
            "/api/v1/me/password",
            json!({ "current_password": ADMIN_PASSWORD, "new_password": "short" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["new_password"].is_string(),
        "{body}"
    );

    let (status, body) = laptop
        .post_json(
            "/api/v1/me/password",
            json!({ "current_password": ADMIN_PASSWORD, "new_password": new_password }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        phone.get_json("/api/v1/me").await.0,
        401,
        "other sessions end"
    );
    assert_eq!(
        laptop.get_json("/api/v1/me").await.0,
        200,
        "this one goes on"
    );
    assert_eq!(
        login_raw(&app, "admin", ADMIN_PASSWORD, None)
            .await
            .status(),
        401
    );
    assert_eq!(
        login_raw(&app, "admin", new_password, None).await.status(),
        200
    );
}

async fn bearer_get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    json_of(
        app.client
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn personal_tokens_are_shown_once_work_as_bearer_and_can_be_revoked() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;

    let (status, created) = admin
        .post_json("/api/v1/me/tokens", json!({ "name": "ci" }))
        .await;
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("slp_") && token.len() > 40, "{token}");

    let (_, listed) = admin.get_json("/api/v1/me/tokens").await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        listed[0].get("token").is_none(),
        "never listed again: {listed}"
    );
    assert!(token.starts_with(listed[0]["prefix"].as_str().unwrap()));
    assert!(listed[0]["last_used_at"].is_null());

    let (status, me) = bearer_get(&app, &token, "/api/v1/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "admin");
    assert_eq!(bearer_get(&app, &token, "/api/v1/hello").await.0, 200);
    let (_, listed) = admin.get_json("/api/v1/me/tokens").await;
    assert!(
        listed[0]["last_used_at"].is_string(),
        "last use recorded: {listed}"
    );

    // Bearer requests are exempt from the Origin check: browsers never send them on their own.
    let cross = app
        .client
        .post(app.url("/api/v1/me/tokens"))
        .bearer_auth(&token)
        .header("origin", "https://elsewhere.example")
        .json(&json!({ "name": "from a script" }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 201);

    let id = created["id"].as_str().unwrap();
    let revoke = admin
        .client
        .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 204);
    assert_eq!(bearer_get(&app, &token, "/api/v1/me").await.0, 401);
}

#[tokio::test]
async fn a_bad_bearer_token_is_401_even_next_to_a_good_cookie() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let response = admin
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth("slp_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(bearer_get(&app, "garbage", "/api/v1/me").await.0, 401);
}

#[tokio::test]
async fn another_users_token_cannot_be_revoked() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    open_registration(&app).await;
    let eve = app.browser();
    eve.post_json("/api/v1/auth/register", user("eve")).await;
    let (_, created) = admin
        .post_json("/api/v1/me/tokens", json!({ "name": "mine" }))
        .await;
    let id = created["id"].as_str().unwrap();
    let response = eve
        .client
        .delete(app.url(&format!("/api/v1/me/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        bearer_get(&app, created["token"].as_str().unwrap(), "/api/v1/me")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn admin_email_and_password_create_the_admin_at_start_up_without_a_setup_token() {
    let app = TestApp::builder()
        .setting("ADMIN_EMAIL", "boss@example.com")
        .setting("ADMIN_PASSWORD", "bootstrap passphrase")
        .setting("ADMIN_USERNAME", "boss")
        .build()
        .await;
    assert!(
        !app.data_dir().join("setup-token").exists(),
        "no token is needed"
    );
    let response = login_raw(&app, "boss@example.com", "bootstrap passphrase", None).await;
    let (status, me) = json_of(response).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["username"], "boss");
}

/// The sign-in form posted without JavaScript: the server function answers with a redirect.
async fn form_login(app: &TestApp, next: &str) -> reqwest::Response {
    app.client
        .post(app.url("/rpc/login"))
        .header("accept", "text/html")
        .form(&[
            ("login", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", next),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn after_signing_in_only_local_next_paths_are_followed() {
    let app = TestApp::new().await;
    app.with_admin().await;
    let local = form_login(&app, "/account?tab=sessions").await;
    assert!(local.status().is_redirection(), "{}", local.status());
    assert_eq!(local.headers()["location"], "/account?tab=sessions");

    for evil in [
        "//evil.com",
        "/\\evil.com",
        "/%09/evil.com",
        "https://evil.com",
    ] {
        let response = form_login(&app, evil).await;
        assert!(
            response.status().is_redirection(),
            "{evil}: {}",
            response.status()
        );
        assert_eq!(response.headers()["location"], "/", "{evil}");
    }
}

#[tokio::test]
async fn production_cookies_are_host_prefixed_and_secure() {
    let app = TestApp::builder()
        .setting("APP_ENV", "production")
        .build()
        .await;
    app.with_admin_cookie_name("__Host-slipway").await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "login": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .unwrap();
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("__Host-slipway="), "{set_cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Domain="), "host-only: {set_cookie}");
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server() {
    use fred::interfaces::KeysInterface;

    // Long enough that a loaded machine reads the key before it expires.
    let app = TestApp::builder()
        .setting("SESSION_IDLE_TIMEOUT_SECS", "4")
        .build()
        .await;
    app.with_admin().await;
    let response = login_raw(&app, "admin", ADMIN_PASSWORD, None).await;
    let cookie = session_cookie(&response).unwrap();
    let session_id = cookie.split_once('=').unwrap().1.to_owned();
    let key = format!("{}session:{session_id}", app.state.config.redis_key_prefix);
    let exists: i64 = app.state.redis.exists(&key).await.unwrap();
    assert_eq!(exists, 1, "the session lives in Redis under {key}");
    let ttl: i64 = app.state.redis.ttl(&key).await.unwrap();
    assert!(
        (0..=4).contains(&ttl),
        "expires with the idle timeout, not later: ttl {ttl}"
    );

    // Watch Redis rather than the API: a request would count as activity.
    wait::until(
        "Redis to expire the idle session",
        Duration::from_secs(10),
        || {
            let redis = app.state.redis.clone();
            let key = key.clone();
            async move {
                let exists: i64 = redis.exists(&key).await.unwrap();
                (exists == 0).then_some(())
            }
        },
    )
    .await;
    assert_eq!(me_with(&app, &cookie).await, 401);
}

#[tokio::test]
async fn using_a_session_keeps_it_alive_past_the_idle_timeout() {
    let app = TestApp::builder()
        .setting("SESSION_IDLE_TIMEOUT_SECS", "3")
        .build()
        .await;
    let admin = app.with_admin().await;
    // Read-only requests for twice the idle timeout: each one counts as use.
    let until = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < until {
        assert_eq!(admin.get_json("/api/v1/me").await.0, 200, "still signed in");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (_, sessions) = admin.get_json("/api/v1/me/sessions").await;
    let seen = chrono::DateTime::parse_from_rfc3339(sessions[0]["last_seen_at"].as_str().unwrap())
        .unwrap();
    let signed_in =
        chrono::DateTime::parse_from_rfc3339(sessions[0]["signed_in_at"].as_str().unwrap())
            .unwrap();
    assert!(
        seen - signed_in >= chrono::Duration::seconds(4),
        "last use is recorded: {sessions}"
    );
}
