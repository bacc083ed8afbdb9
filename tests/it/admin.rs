//! What admins can do to accounts, and the guards around it.

use serde_json::{json, Value};

use crate::support::{app::Browser, TestApp};

const PASSWORD: &str = "correct horse battery staple";

async fn create_user(admin: &Browser, name: &str) -> Value {
    let (status, body) = admin
        .post_json(
            "/api/v1/users",
            json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn sign_in(app: &TestApp, login: &str, password: &str) -> (u16, Browser) {
    let browser = app.browser();
    let (status, _) = browser
        .post_json(
            "/api/v1/auth/login",
            json!({ "login": login, "password": password }),
        )
        .await;
    (status, browser)
}

#[tokio::test]
async fn an_admin_creates_a_user_who_can_then_sign_in() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let created = create_user(&admin, "frank").await;
    assert_eq!(created["role"], "user");
    assert_eq!(created["disabled"], false);
    let (status, _) = sign_in(&app, "frank", PASSWORD).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn users_are_searchable_and_paged() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    for i in 0..27 {
        create_user(&admin, &format!("member{i:02}")).await;
    }
    let (status, page1) = admin.get_json("/api/v1/users?query=member").await;
    assert_eq!(status, 200, "{page1}");
    assert_eq!(page1["total"], 27);
    assert_eq!(page1["per_page"], 25);
    assert_eq!(page1["users"].as_array().unwrap().len(), 25);
    let (_, page2) = admin.get_json("/api/v1/users?query=member&page=2").await;
    assert_eq!(page2["users"].as_array().unwrap().len(), 2);
    assert_eq!(page2["users"][1]["username"], "member26");

    let (_, one) = admin
        .get_json("/api/v1/users?query=MEMBER07%40example")
        .await;
    assert_eq!(one["total"], 1, "{one}");
    // LIKE wildcards in the query are taken literally.
    let (_, none) = admin.get_json("/api/v1/users?query=%25").await;
    assert_eq!(none["total"], 0, "{none}");
}

#[tokio::test]
async fn non_admins_get_403_from_every_admin_endpoint() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let target = create_user(&admin, "grace").await;
    let (_, grace) = sign_in(&app, "grace", PASSWORD).await;
    let id = target["id"].as_str().unwrap();
    let cases = [
        (reqwest::Method::GET, "/api/v1/users".to_owned(), None),
        (
            reqwest::Method::POST,
            "/api/v1/users".to_owned(),
            Some(json!({"username": "x1x", "email": "x@example.com", "password": PASSWORD})),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/users/{id}"),
            Some(json!({ "role": "admin" })),
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/users/{id}/password-reset"),
            None,
        ),
        (reqwest::Method::DELETE, format!("/api/v1/users/{id}"), None),
        (
            reqwest::Method::GET,
            "/api/v1/settings/registration".to_owned(),
            None,
        ),
        (
            reqwest::Method::PUT,
            "/api/v1/settings/registration".to_owned(),
            Some(json!({ "policy": "open" })),
        ),
        (reqwest::Method::GET, "/api/v1/audit".to_owned(), None),
    ];
    for (method, path, body) in cases {
        let (status, response) = grace.send(method.clone(), &path, body).await;
        assert_eq!(status, 403, "{method} {path}: {response}");
    }
    // And anonymous callers get 401.
    assert_eq!(app.get_json("/api/v1/users").await.0, 401);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_blocks_sign_in() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let target = create_user(&admin, "heidi").await;
    let (_, heidi) = sign_in(&app, "heidi", PASSWORD).await;
    assert_eq!(heidi.get_json("/api/v1/me").await.0, 200);

    let id = target["id"].as_str().unwrap();
    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], true);
    assert_eq!(heidi.get_json("/api/v1/me").await.0, 401);
    assert_eq!(sign_in(&app, "heidi", PASSWORD).await.0, 401);

    admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "disabled": false })),
        )
        .await;
    assert_eq!(sign_in(&app, "heidi", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn promoting_and_demoting_changes_access_and_demotion_ends_sessions() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let target = create_user(&admin, "ivan").await;
    let id = target["id"].as_str().unwrap();
    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "role": "admin" })),
        )
        .await;
    assert_eq!((status, body["role"].clone()), (200, json!("admin")));
    let (_, ivan) = sign_in(&app, "ivan", PASSWORD).await;
    assert_eq!(ivan.get_json("/api/v1/users").await.0, 200);

    admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "role": "user" })),
        )
        .await;
    assert_eq!(
        ivan.get_json("/api/v1/me").await.0,
        401,
        "demotion ends the session"
    );
    let (_, ivan) = sign_in(&app, "ivan", PASSWORD).await;
    assert_eq!(ivan.get_json("/api/v1/users").await.0, 403);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_disabled_or_deleted() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let (_, me) = admin.get_json("/api/v1/me").await;
    let id = me["id"].as_str().unwrap();
    for change in [json!({ "role": "user" }), json!({ "disabled": true })] {
        let (status, body) = admin
            .send(
                reqwest::Method::PATCH,
                &format!("/api/v1/users/{id}"),
                Some(change),
            )
            .await;
        assert_eq!(status, 409, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("last admin"),
            "{body}"
        );
    }
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/users/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        admin.get_json("/api/v1/me").await.0,
        200,
        "still an admin, still signed in"
    );

    // With a second admin, the first may step down.
    let other = create_user(&admin, "judy").await;
    admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{}", other["id"].as_str().unwrap()),
            Some(json!({ "role": "admin" })),
        )
        .await;
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "role": "user" })),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn password_reset_sets_a_new_password_and_ends_sessions() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let target = create_user(&admin, "kate").await;
    let id = target["id"].as_str().unwrap();
    let (_, kate) = sign_in(&app, "kate", PASSWORD).await;

    let (status, body) = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/users/{id}/password-reset"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let generated = body["password"]
        .as_str()
        .expect("a generated password")
        .to_owned();
    assert_eq!(kate.get_json("/api/v1/me").await.0, 401);
    assert_eq!(sign_in(&app, "kate", PASSWORD).await.0, 401);
    assert_eq!(sign_in(&app, "kate", &generated).await.0, 200);

    let chosen = "another long passphrase";
    let (status, body) = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/users/{id}/password-reset"),
            Some(json!({ "password": chosen })),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        body["password"].is_null(),
        "a chosen password is not echoed: {body}"
    );
    assert_eq!(sign_in(&app, "kate", chosen).await.0, 200);

    let (status, body) = admin
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/users/{id}/password-reset"),
            Some(json!({ "password": "short" })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions_and_is_a_404_the_second_time() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let target = create_user(&admin, "leo").await;
    let id = target["id"].as_str().unwrap();
    let (_, leo) = sign_in(&app, "leo", PASSWORD).await;
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/users/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(leo.get_json("/api/v1/me").await.0, 401);
    assert_eq!(sign_in(&app, "leo", PASSWORD).await.0, 401);
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/users/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_registration_policy_decides_who_may_register() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let (status, body) = admin.get_json("/api/v1/settings/registration").await;
    assert_eq!(
        (status, body),
        (200, json!({ "policy": "closed" })),
        "closed once an admin exists"
    );

    let newcomer = json!({ "username": "mallory", "email": "m@example.com", "password": PASSWORD });
    assert_eq!(
        app.browser()
            .post_json("/api/v1/auth/register", newcomer.clone())
            .await
            .0,
        403
    );

    let (status, _) = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": "open" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.browser()
            .post_json("/api/v1/auth/register", newcomer)
            .await
            .0,
        201
    );

    let (status, body) = admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": "sometimes" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn admins_read_the_audit_log_newest_first() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    create_user(&admin, "nina").await;
    sign_in(&app, "nina", "wrong password here").await;
    let (status, entries) = admin.get_json("/api/v1/audit").await;
    assert_eq!(status, 200, "{entries}");
    let actions: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["login.failed", "admin.user_created", "user.registered"]
    );
    assert_eq!(entries[1]["actor"], "admin");
    assert_eq!(entries[1]["subject"], "nina");
    assert_eq!(entries[0]["ip"], "127.0.0.1");

    let oldest_id = entries[1]["id"].as_i64().unwrap();
    let (_, older) = admin
        .get_json(&format!("/api/v1/audit?before={oldest_id}"))
        .await;
    assert_eq!(older.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_invite_lets_one_person_register_while_registration_is_invite_only() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": "invite" })),
        )
        .await;
    let newcomer = |name: &str, invite: Option<&str>| json!({ "username": name, "email": format!("{name}@example.com"), "password": PASSWORD, "invite": invite });
    assert_eq!(
        app.browser()
            .post_json("/api/v1/auth/register", newcomer("olga", None))
            .await
            .0,
        403
    );

    let (status, invite) = admin
        .send(reqwest::Method::POST, "/api/v1/invites", None)
        .await;
    assert_eq!(status, 201, "{invite}");
    let token = invite["token"].as_str().unwrap();
    assert_eq!(invite["path"], format!("/register?invite={token}"));

    let (status, body) = app
        .browser()
        .post_json("/api/v1/auth/register", newcomer("olga", Some(token)))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["role"], "user");

    let (status, body) = app
        .browser()
        .post_json("/api/v1/auth/register", newcomer("peter", Some(token)))
        .await;
    assert_eq!(status, 422, "single use: {body}");
    assert!(body["error"]["fields"]["invite"].is_string());
    assert_eq!(
        app.browser()
            .post_json("/api/v1/auth/register", newcomer("peter", Some("made-up")))
            .await
            .0,
        422
    );

    // Closed means closed, invite or not.
    let (_, invite) = admin
        .send(reqwest::Method::POST, "/api/v1/invites", None)
        .await;
    admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": "closed" })),
        )
        .await;
    let status = app
        .browser()
        .post_json(
            "/api/v1/auth/register",
            newcomer("quinn", invite["token"].as_str()),
        )
        .await
        .0;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_failed_registration_does_not_spend_the_invite() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    admin
        .send(
            reqwest::Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": "invite" })),
        )
        .await;
    let (_, invite) = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/invites",
            Some(json!({ "expires_in_hours": 1 })),
        )
        .await;
    let token = invite["token"].as_str().unwrap();
    // "admin" is taken: this registration fails, and the invite stays good.
    let taken = json!({ "username": "admin", "email": "x@example.com", "password": PASSWORD, "invite": token });
    assert_eq!(
        app.browser()
            .post_json("/api/v1/auth/register", taken)
            .await
            .0,
        422
    );
    let fine = json!({ "username": "rita", "email": "rita@example.com", "password": PASSWORD, "invite": token });
    assert_eq!(
        app.browser()
            .post_json("/api/v1/auth/register", fine)
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn an_admin_edits_display_name_and_email_with_field_errors() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let target = create_user(&admin, "sam").await;
    let path = format!("/api/v1/users/{}", target["id"].as_str().unwrap());

    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "display_name": "Samuel", "email": "samuel@example.com" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["display_name"].as_str(), body["email"].as_str()),
        (Some("Samuel"), Some("samuel@example.com"))
    );
    assert_eq!(
        sign_in(&app, "samuel@example.com", PASSWORD).await.0,
        200,
        "the new email signs in"
    );

    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "email": "not an email" })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["email"].is_string());
    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "email": "ADMIN@example.com" })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["fields"]["email"],
        "already belongs to an account"
    );
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            "/api/v1/users/not-a-uuid",
            Some(json!({ "display_name": "x" })),
        )
        .await;
    assert_eq!(status, 404);
}
