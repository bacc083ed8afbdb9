//! Sign-in through providers: each kind against its stand-in, the state and browser binding,
//! ID-token checks, the account rules (no merge by email, registration policy, linking) and
//! the admins' provider management. Everything goes through HTTP as a browser would.

use std::time::Duration;

use fred::interfaces::KeysInterface;
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{
    app::{Browser, ADMIN_PASSWORD},
    oauth::{
        callback, client_secret, location, sign_in_with, to_provider_and_back, Person,
        ProviderStandIn, Spoil, REALMS,
    },
    TestApp,
};

/// An app whose GOOGLE_*, GITHUB_* and DISCORD_* point at the stand-in, with open
/// registration, plus an `sso` (OpenID) and a `forge` (generic OAuth 2.0) provider an admin
/// added. Returns the admin's browser too.
async fn app_with_providers(sso: &ProviderStandIn) -> (TestApp, Browser) {
    let mut builder = TestApp::builder();
    for (var, value) in sso.env_settings() {
        builder = builder.setting(var, value);
    }
    let app = builder.build().await;
    let admin = app.with_admin().await;
    set_policy(&admin, "open").await;
    for body in [sso.oidc_body("sso"), sso.generic_body("forge")] {
        let (status, created) = admin.post_json("/api/v1/admin/providers", body).await;
        assert_eq!(status, 201, "{created}");
    }
    (app, admin)
}

async fn set_policy(admin: &Browser, policy: &str) {
    let (status, body) = admin
        .send(
            Method::PUT,
            "/api/v1/settings/registration",
            Some(json!({ "policy": policy })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The realm of the stand-in that serves each slug in [`app_with_providers`].
fn realm_of(slug: &str) -> &str {
    match slug {
        "sso" => "oidc",
        "forge" => "generic",
        other => other,
    }
}

async fn me(browser: &Browser) -> (u16, Value) {
    browser.get_json("/api/v1/me").await
}

async fn audit_reasons(admin: &Browser) -> Vec<Value> {
    let (status, entries) = admin.get_json("/api/v1/audit").await;
    assert_eq!(status, 200);
    entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login.oauth_refused")
        .map(|e| e["details"].clone())
        .collect()
}

async fn identity_count(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM user_identities")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM users")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_person_signs_up_through_each_kind_of_provider_and_comes_back_to_the_same_account() {
    let sso = ProviderStandIn::start().await;
    let (app, _admin) = app_with_providers(&sso).await;
    let (_, listed) = app.browser().get_json("/api/v1/auth/providers").await;
    let slugs: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    for slug in ["google", "github", "discord", "sso", "forge"] {
        assert!(slugs.contains(&slug), "{slug} listed: {listed}");
    }

    for (n, slug) in ["google", "github", "discord", "sso", "forge"]
        .into_iter()
        .enumerate()
    {
        let realm = realm_of(slug);
        let subject = format!("{}", 9000 + n);
        let login = format!("{realm}-person");
        let email = format!("{login}@example.org");
        sso.signs_in(realm, Person::new(&subject, &login, &email));

        let browser = app.browser();
        let landed = sign_in_with(
            &browser,
            &format!("/auth/{slug}/start?next=/deployments/new"),
        )
        .await;
        assert_eq!(landed, "/deployments/new", "{slug}");
        let (status, first) = me(&browser).await;
        assert_eq!(status, 200, "{slug}: signed in");
        assert_eq!(first["email"], email.as_str(), "{slug}");
        assert_eq!(first["role"], "user");

        // What went to the provider: PKCE S256, a state of 256 bits, a nonce for OpenID.
        let asked = sso.last_authorize(realm);
        assert_eq!(asked["code_challenge_method"], "S256", "{slug}");
        assert!(asked["state"].len() >= 43, "{slug}: {}", asked["state"]);
        assert_eq!(
            asked["redirect_uri"],
            app.url(&format!("/auth/{slug}/callback")),
            "{slug}"
        );
        assert_eq!(
            asked.contains_key("nonce"),
            matches!(slug, "google" | "sso"),
            "{slug}"
        );

        // Signing in again (a new browser) reaches the same account.
        let again = app.browser();
        assert_eq!(
            sign_in_with(&again, &format!("/auth/{slug}/start")).await,
            "/"
        );
        let (_, second) = me(&again).await;
        assert_eq!(second["id"], first["id"], "{slug}: same account");

        let (_, methods) = again.get_json("/api/v1/me/identities").await;
        assert_eq!(methods["has_password"], false, "{slug}");
        assert_eq!(methods["identities"][0]["provider"], slug);
        assert_eq!(methods["identities"][0]["email"], email.as_str());
    }
    // Every code was traded with the verifier that matched its challenge: two per realm.
    assert_eq!(sso.pkce(), (10, 0));
    assert_eq!(identity_count(&app).await, 5);
}

#[tokio::test]
async fn a_callback_without_a_good_state_from_this_browser_is_refused_and_changes_no_session() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    sso.signs_in("github", Person::new("42", "octo", "octo@example.org"));

    // No state at all.
    let browser = app.browser();
    assert_eq!(
        callback(&browser, &app.url("/auth/github/callback?code=x")).await,
        "/login?oauth_error=state_missing"
    );

    // A state that was never issued (one character changed).
    let back = to_provider_and_back(&browser, "/auth/github/start").await;
    let state = back.split("state=").nth(1).unwrap().to_owned();
    let mut tampered = state.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered_url = back.replace(&state, std::str::from_utf8(&tampered).unwrap());
    assert_eq!(
        callback(&browser, &tampered_url).await,
        "/login?oauth_error=state_invalid"
    );
    assert_eq!(me(&browser).await.0, 401, "nobody signed in");

    // From another browser: the binding cookie is missing there.
    let other = app.browser();
    let back = to_provider_and_back(&browser, "/auth/github/start").await;
    assert_eq!(
        callback(&other, &back).await,
        "/login?oauth_error=state_browser"
    );
    assert_eq!(me(&other).await.0, 401);
    // ...and the state is spent: the browser that started cannot use it afterwards either.
    assert_eq!(
        callback(&browser, &back).await,
        "/login?oauth_error=state_invalid"
    );

    // Replayed after a sign-in: refused, and the session stays whoever it was.
    let back = to_provider_and_back(&browser, "/auth/github/start").await;
    assert_eq!(callback(&browser, &back).await, "/");
    let (_, octo) = me(&browser).await;
    let victim = app.signed_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(
        callback(&victim, &back).await,
        "/login?oauth_error=state_invalid"
    );
    assert_eq!(me(&victim).await.1["username"], "admin");
    assert_eq!(
        callback(&browser, &back).await,
        "/login?oauth_error=state_invalid"
    );
    assert_eq!(me(&browser).await.1["id"], octo["id"]);

    // The answer of one provider brought to another provider's callback.
    let fresh = app.browser();
    let back = to_provider_and_back(&fresh, "/auth/github/start").await;
    let mixed = back.replace("/auth/github/callback", "/auth/discord/callback");
    assert_eq!(
        callback(&fresh, &mixed).await,
        "/login?oauth_error=provider_mismatch"
    );
    assert_eq!(me(&fresh).await.0, 401);

    // Expired: the record lives at most ten minutes, and an older one is refused.
    let response = fresh
        .client
        .get(fresh.url("/auth/github/start"))
        .send()
        .await
        .unwrap();
    let authorize = location(&response);
    let state = authorize
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let key = format!(
        "{}:oauth:pending:{}",
        app.database,
        slipway::server::auth::sha256_hex(&state)
    );
    let ttl: i64 = app.state.redis.ttl(&key).await.unwrap();
    assert!((1..=600).contains(&ttl), "ttl {ttl}");
    let record: String = app.state.redis.get(&key).await.unwrap();
    let mut record: Value = serde_json::from_str(&record).unwrap();
    record["created_at"] = json!(chrono::Utc::now().timestamp() - 601);
    let _: () = app
        .state
        .redis
        .set(&key, record.to_string(), None, None, false)
        .await
        .unwrap();
    let back = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&authorize)
        .send()
        .await
        .unwrap();
    assert_eq!(
        callback(&fresh, &location(&back)).await,
        "/login?oauth_error=state_invalid"
    );
    assert_eq!(me(&fresh).await.0, 401);

    // The person declines at the provider.
    sso.deny(true);
    assert_eq!(
        sign_in_with(&fresh, "/auth/github/start").await,
        "/login?oauth_error=access_denied"
    );
    sso.deny(false);
    assert_eq!(me(&fresh).await.0, 401);

    let codes: Vec<String> = audit_reasons(&admin)
        .await
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect();
    for code in ["state_browser", "provider_mismatch", "access_denied"] {
        assert!(codes.iter().any(|c| c == code), "{code} audited: {codes:?}");
    }
    // The login page shows the sentence for a code, never text from the URL.
    let (_, page) = app
        .browser()
        .get_text("/login?oauth_error=state_browser")
        .await;
    assert!(page.contains("started in another browser"), "{page}");
}

#[tokio::test]
async fn a_callback_planted_in_a_browser_with_a_sign_in_of_its_own_is_refused() {
    let sso = ProviderStandIn::start().await;
    let (app, _admin) = app_with_providers(&sso).await;
    // The attacker gets a callback for their own provider account...
    sso.signs_in(
        "github",
        Person::new("666", "mallory", "mallory@example.org"),
    );
    let attacker = app.browser();
    let planted = to_provider_and_back(&attacker, "/auth/github/start").await;
    // ...while the victim has started a sign-in of their own (so holds a binding cookie).
    let victim = app.browser();
    let response = victim
        .client
        .get(victim.url("/auth/github/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        callback(&victim, &planted).await,
        "/login?oauth_error=state_browser"
    );
    assert_eq!(
        me(&victim).await.0,
        401,
        "the victim is not signed in as the attacker"
    );
}

#[tokio::test]
async fn id_tokens_that_fail_any_check_are_refused() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    sso.signs_in("google", Person::new("g-1", "gina", "gina@example.org"));
    sso.signs_in("oidc", Person::new("o-1", "olga", "olga@example.org"));
    let users = user_count(&app).await;
    let cases = [
        (Spoil::ImpostorKey, "bad_signature"),
        (Spoil::WrongAudience, "wrong_audience"),
        (Spoil::WrongIssuer, "wrong_issuer"),
        (Spoil::Expired, "expired"),
        (Spoil::WrongNonce, "wrong_nonce"),
    ];
    for (spoil, reason) in cases {
        sso.spoil(Some(spoil));
        for slug in ["google", "sso"] {
            let browser = app.browser();
            assert_eq!(
                sign_in_with(&browser, &format!("/auth/{slug}/start")).await,
                "/login?oauth_error=token_invalid",
                "{spoil:?} at {slug}"
            );
            assert_eq!(me(&browser).await.0, 401, "{spoil:?}");
        }
        let reasons = audit_reasons(&admin).await;
        assert!(
            reasons
                .iter()
                .any(|d| d["reason"].as_str().unwrap().contains(reason)),
            "{reason} audited: {reasons:?}"
        );
    }
    assert_eq!(user_count(&app).await, users, "no account was made");
    sso.spoil(None);
    let browser = app.browser();
    assert_eq!(sign_in_with(&browser, "/auth/google/start").await, "/");
}

#[tokio::test]
async fn an_email_an_account_already_has_is_never_linked_verified_or_not() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    let (alice_id, _alice) = app.user_signed_in(&admin, "alice").await;
    let users = user_count(&app).await;

    for (person, realm) in [
        (
            Person::new("7", "notalice", "alice@example.com").unverified(),
            "github",
        ),
        (Person::new("8", "alice", "ALICE@example.com"), "discord"),
        (Person::new("9", "alice", "alice@example.com"), "google"),
    ] {
        sso.signs_in(realm, person);
        let browser = app.browser();
        assert_eq!(
            sign_in_with(&browser, &format!("/auth/{realm}/start")).await,
            "/login?oauth_error=account_exists",
            "{realm}"
        );
        assert_eq!(me(&browser).await.0, 401, "{realm}: not signed in as alice");
    }
    assert_eq!(identity_count(&app).await, 0, "nothing was linked");
    assert_eq!(user_count(&app).await, users, "no account was made");
    let alice: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1::uuid")
            .bind(&alice_id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(alice.is_some(), "alice's password stays");
    let (_, page) = app
        .browser()
        .get_text("/login?oauth_error=account_exists")
        .await;
    assert!(
        page.contains("link this provider from your account page"),
        "{page}"
    );
}

#[tokio::test]
async fn registration_policy_decides_whether_a_provider_can_make_an_account() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    let users = user_count(&app).await;

    set_policy(&admin, "closed").await;
    sso.signs_in("discord", Person::new("100", "dana", "dana@example.org"));
    let browser = app.browser();
    assert_eq!(
        sign_in_with(&browser, "/auth/discord/start").await,
        "/login?oauth_error=registration_closed"
    );

    set_policy(&admin, "invite").await;
    assert_eq!(
        sign_in_with(&browser, "/auth/discord/start").await,
        "/login?oauth_error=invite_required"
    );
    let (status, invite) = admin.post_json("/api/v1/invites", json!({})).await;
    assert_eq!(status, 201, "{invite}");
    let token = invite["token"].as_str().unwrap();
    assert_eq!(
        sign_in_with(&browser, "/auth/discord/start?invite=nonsense").await,
        "/login?oauth_error=invite_invalid"
    );
    assert_eq!(user_count(&app).await, users);
    assert_eq!(
        sign_in_with(&browser, &format!("/auth/discord/start?invite={token}")).await,
        "/"
    );
    assert_eq!(me(&browser).await.1["email"], "dana@example.org");
    // The invite is spent.
    sso.signs_in("discord", Person::new("101", "dora", "dora@example.org"));
    let second = app.browser();
    assert_eq!(
        sign_in_with(&second, &format!("/auth/discord/start?invite={token}")).await,
        "/login?oauth_error=invite_invalid"
    );

    // Open, but the address is unverified or missing: no account from it.
    set_policy(&admin, "open").await;
    sso.signs_in(
        "github",
        Person::new("102", "uma", "uma@example.org").unverified(),
    );
    assert_eq!(
        sign_in_with(&second, "/auth/github/start").await,
        "/login?oauth_error=email_unverified"
    );
    let mut no_email = Person::new("103", "nemo", "x@example.org");
    no_email.email = None;
    sso.signs_in("github", no_email);
    assert_eq!(
        sign_in_with(&second, "/auth/github/start").await,
        "/login?oauth_error=email_missing"
    );
    assert_eq!(user_count(&app).await, users + 1);
}

#[tokio::test]
async fn a_linked_provider_and_the_password_both_sign_in_to_the_same_account() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    let (bob_id, bob) = app.user_signed_in(&admin, "bob").await;
    // Bob's GitHub account has another address: linking goes by who is signed in, not email.
    sso.signs_in(
        "github",
        Person::new("555", "bobcodes", "bob.codes@example.net"),
    );
    assert_eq!(
        sign_in_with(&bob, "/auth/github/start?intent=link").await,
        "/account"
    );
    let (_, methods) = bob.get_json("/api/v1/me/identities").await;
    assert_eq!(methods["identities"][0]["provider"], "github");
    assert_eq!(methods["has_password"], true);
    assert!(methods["available"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["slug"] != "github"));

    let by_github = app.browser();
    assert_eq!(sign_in_with(&by_github, "/auth/github/start").await, "/");
    assert_eq!(me(&by_github).await.1["id"], bob_id.as_str());
    let by_password = app.signed_in("bob", "a long passphrase of bob").await;
    assert_eq!(me(&by_password).await.1["id"], bob_id.as_str());

    // A second GitHub account cannot be added, nor can Bob's go to someone else.
    let (_, carol) = app.user_signed_in(&admin, "carol").await;
    assert_eq!(
        sign_in_with(&carol, "/auth/github/start?intent=link").await,
        "/account?oauth_error=identity_taken"
    );
    sso.signs_in("github", Person::new("556", "bob2", "bob2@example.net"));
    assert_eq!(
        sign_in_with(&bob, "/auth/github/start?intent=link").await,
        "/account?oauth_error=already_linked"
    );
    // Linking needs a signed-in browser.
    assert_eq!(
        sign_in_with(&app.browser(), "/auth/github/start?intent=link").await,
        "/login?next=/account"
    );
    // A wrong password does not confirm anything.
    let (status, body) = bob
        .post_json(
            "/api/v1/me/reauthenticate",
            json!({ "password": "not it at all" }),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["fields"]["password"].is_string());
    let (status, _) = bob
        .post_json(
            "/api/v1/me/reauthenticate",
            json!({ "password": "a long passphrase of bob" }),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(identity_count(&app).await, 1);
}

#[tokio::test]
async fn a_provider_confirms_only_accounts_without_a_password_and_only_with_a_fresh_sign_in() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    sso.signs_in("google", Person::new("g-7", "gabe", "gabe@example.org"));
    let gabe = app.browser();
    assert_eq!(sign_in_with(&gabe, "/auth/google/start").await, "/");
    assert_eq!(
        sign_in_with(&gabe, "/auth/google/start?intent=reauth").await,
        "/account"
    );
    let asked = sso.last_authorize("google");
    assert_eq!(asked["prompt"], "login");
    assert_eq!(asked["max_age"], "0");
    sso.spoil(Some(Spoil::OldAuthTime));
    assert_eq!(
        sign_in_with(&gabe, "/auth/google/start?intent=reauth").await,
        "/account?oauth_error=reauth_stale"
    );
    sso.spoil(None);
    // Another Google account cannot confirm for Gabe.
    sso.signs_in("google", Person::new("g-8", "other", "other@example.org"));
    assert_eq!(
        sign_in_with(&gabe, "/auth/google/start?intent=reauth").await,
        "/account?oauth_error=not_linked"
    );
    // An account with a password confirms with it.
    let (_, alice) = app.user_signed_in(&admin, "alice").await;
    assert_eq!(
        sign_in_with(&alice, "/auth/google/start?intent=reauth").await,
        "/account?oauth_error=use_password"
    );
}

#[tokio::test]
async fn the_last_way_to_sign_in_cannot_be_unlinked_and_unlinking_revokes_the_grant() {
    let sso = ProviderStandIn::start().await;
    let (app, _admin) = app_with_providers(&sso).await;
    sso.signs_in("github", Person::new("31", "gwen", "gwen@example.org"));
    let gwen = app.browser();
    assert_eq!(sign_in_with(&gwen, "/auth/github/start").await, "/");

    let (status, body) = gwen
        .send(Method::DELETE, "/api/v1/me/identities/github", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("only way to sign in"));

    sso.signs_in("discord", Person::new("32", "gwen", "gwen@example.org"));
    assert_eq!(
        sign_in_with(&gwen, "/auth/discord/start?intent=link").await,
        "/account"
    );
    assert!(sso.revoked().is_empty());
    let (status, _) = gwen
        .send(Method::DELETE, "/api/v1/me/identities/github", None)
        .await;
    assert_eq!(status, 204);
    let revoked = sso.revoked();
    assert!(
        revoked.iter().any(|r| r.starts_with("github:at-github-")),
        "GitHub's grant was deleted: {revoked:?}"
    );
    let (status, _) = gwen
        .send(Method::DELETE, "/api/v1/me/identities/github", None)
        .await;
    assert_eq!(status, 404, "gone already");

    // Discord is the last way in now; a first password makes it removable.
    assert_eq!(
        gwen.send(Method::DELETE, "/api/v1/me/identities/discord", None)
            .await
            .0,
        409
    );
    let (status, body) = gwen
        .post_json(
            "/api/v1/me/password",
            json!({ "new_password": "gwen's own long passphrase" }),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(
        gwen.send(Method::DELETE, "/api/v1/me/identities/discord", None)
            .await
            .0,
        204
    );
    assert!(
        sso.revoked()
            .iter()
            .any(|r| r.starts_with("discord:rt-discord-")),
        "Discord's refresh token was revoked (RFC 7009): {:?}",
        sso.revoked()
    );
    let password_login = app
        .signed_in("gwen@example.org", "gwen's own long passphrase")
        .await;
    assert_eq!(me(&password_login).await.0, 200);
    // With a bearer token there is no session to hold a confirmation.
    let (_, token) = password_login
        .post_json("/api/v1/me/tokens", json!({ "name": "ci" }))
        .await;
    let status = app
        .client
        .delete(app.url("/api/v1/me/identities/discord"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 403);
}

#[tokio::test]
async fn provider_tokens_are_sealed_at_rest_and_refreshed_when_they_run_out() {
    let sso = ProviderStandIn::start().await;
    let (app, _admin) = app_with_providers(&sso).await;
    sso.access_token_lifetime(1);
    sso.signs_in("discord", Person::new("77", "rita", "rita@example.org"));
    let rita = app.browser();
    assert_eq!(sign_in_with(&rita, "/auth/discord/start").await, "/");
    let user_id = uuid::Uuid::parse_str(me(&rita).await.1["id"].as_str().unwrap()).unwrap();

    let (access, refresh): (Vec<u8>, Vec<u8>) = sqlx::query_as(
        "SELECT access_token, refresh_token FROM user_identities WHERE provider = 'discord'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    for blob in [&access, &refresh] {
        assert!(
            !blob
                .windows(3)
                .any(|w| w == b"-di" || w == b"at-" || w == b"rt-"),
            "tokens are sealed"
        );
    }

    sso.access_token_lifetime(3600);
    let token = slipway::server::auth::oauth::tokens::access_token(&app.state, user_id, "discord")
        .await
        .unwrap();
    assert_eq!(sso.refreshes(), 1, "the expiring token was refreshed first");
    assert!(sso.access_token_is_live(&token), "{token}");
    let again = slipway::server::auth::oauth::tokens::access_token(&app.state, user_id, "discord")
        .await
        .unwrap();
    assert_eq!(again, token, "a fresh token is used as it is");
    assert_eq!(sso.refreshes(), 1);
}

#[tokio::test]
async fn provider_secrets_never_appear_in_answers_or_pages() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    let secrets: Vec<String> = REALMS.iter().map(|r| client_secret(r)).collect();
    let mut seen = Vec::new();
    let (_, list) = admin.get_json("/api/v1/admin/providers").await;
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["client_secret_set"] == true));
    seen.push(list.to_string());
    seen.push(
        admin
            .get_json("/api/v1/admin/providers/sso")
            .await
            .1
            .to_string(),
    );
    let (status, patched) = admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/forge",
            Some(json!({ "client_secret": client_secret("generic"), "display_name": "Forge!" })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    seen.push(patched.to_string());
    seen.push(
        app.browser()
            .get_json("/api/v1/auth/providers")
            .await
            .1
            .to_string(),
    );
    seen.push(admin.get_json("/api/v1/audit").await.1.to_string());
    for page in ["/admin/providers", "/login", "/account", "/register"] {
        seen.push(admin.get_text(page).await.1);
    }
    for text in &seen {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} leaked in {text}");
        }
    }
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT client_secret FROM auth_providers")
        .fetch_all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 5);
    for blob in stored {
        assert!(!blob.windows(6).any(|w| w == b"Secret"), "sealed at rest");
    }
}

#[tokio::test]
async fn admins_manage_providers_with_field_errors_and_no_account_left_without_a_way_in() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;

    // Field errors name the field.
    for (body, field) in [
        (
            json!({ "kind": "myspace", "client_id": "x", "client_secret": "y" }),
            "kind",
        ),
        (
            json!({ "kind": "github", "slug": "Bad Slug", "client_id": "x", "client_secret": "y" }),
            "slug",
        ),
        (
            json!({ "kind": "github", "slug": "gh2", "client_id": "x" }),
            "client_secret",
        ),
        (
            json!({ "kind": "oidc", "slug": "kc", "client_id": "x", "client_secret": "y" }),
            "discovery_url",
        ),
        (
            json!({ "kind": "oauth2", "slug": "o2", "client_id": "x", "client_secret": "y", "authorize_url": "https://a.example/authorize", "token_url": "https://a.example/token" }),
            "userinfo_url",
        ),
        (
            json!({ "kind": "oauth2", "slug": "o3", "client_id": "x", "client_secret": "y", "authorize_url": "https://a.example/a", "token_url": "https://a.example/t", "userinfo_url": "https://a.example/u", "field_map": { "email": "mail" } }),
            "field_map",
        ),
        (
            json!({ "kind": "oauth2", "slug": "o4", "client_id": "x", "client_secret": "y", "authorize_url": "ftp://a.example/a", "token_url": "https://a.example/t", "userinfo_url": "https://a.example/u", "field_map": { "id": "id" } }),
            "authorize_url",
        ),
        (
            json!({ "kind": "github", "slug": "sso", "client_id": "x", "client_secret": "y" }),
            "slug",
        ),
    ] {
        let (status, answer) = admin
            .post_json("/api/v1/admin/providers", body.clone())
            .await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(
            answer["error"]["fields"][field].is_string(),
            "{field}: {answer}"
        );
    }
    // Presets fill in what a kind needs.
    let (status, gitlab) = admin
        .post_json(
            "/api/v1/admin/providers",
            json!({ "kind": "discord", "slug": "guild", "client_id": "abc", "client_secret": "def" }),
        )
        .await;
    assert_eq!(status, 201, "{gitlab}");
    assert_eq!(gitlab["scopes"], json!(["identify", "email"]));
    assert_eq!(gitlab["redirect_uri"], app.url("/auth/guild/callback"));
    assert!(gitlab["token_url"]
        .as_str()
        .unwrap()
        .ends_with("/oauth2/token"));
    let (_, presets) = admin.get_json("/api/v1/admin/provider-presets").await;
    assert_eq!(presets.as_array().unwrap().len(), 5);

    // Slug and kind stay; environment providers can only be switched on and off.
    let (status, body) = admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/sso",
            Some(json!({ "slug": "other" })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/github",
            Some(json!({ "client_id": "mine" })),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("GITHUB_CLIENT_ID"));
    let (status, body) = admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/github",
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "env");
    let (_, listed) = app.browser().get_json("/api/v1/auth/providers").await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["slug"] != "github"));
    sso.signs_in("github", Person::new("1", "x", "x@example.org"));
    assert_eq!(
        sign_in_with(&app.browser(), "/auth/github/start").await,
        "/login?oauth_error=unknown_provider"
    );
    assert_eq!(
        admin
            .send(Method::DELETE, "/api/v1/admin/providers/github", None)
            .await
            .0,
        409
    );

    // Test connection: discovery for OpenID, a refused test code for the others.
    let (status, tested) = admin
        .post_json("/api/v1/admin/providers/sso/test", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(tested["ok"], true, "{tested}");
    assert_eq!(tested["signing_keys"], 1);
    let (_, tested) = admin
        .post_json("/api/v1/admin/providers/forge/test", json!({}))
        .await;
    assert_eq!(tested["ok"], true, "{tested}");
    admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/forge",
            Some(json!({ "client_secret": "wrong" })),
        )
        .await;
    let (_, tested) = admin
        .post_json("/api/v1/admin/providers/forge/test", json!({}))
        .await;
    assert_eq!(tested["ok"], false, "{tested}");
    admin
        .send(
            Method::PATCH,
            "/api/v1/admin/providers/forge",
            Some(json!({ "client_secret": client_secret("generic") })),
        )
        .await;

    // Deleting a provider people sign in with needs a choice, and never strands anyone.
    sso.signs_in("generic", Person::new("501", "fay", "fay@example.org"));
    let fay = app.browser();
    assert_eq!(sign_in_with(&fay, "/auth/forge/start").await, "/");
    let (status, body) = admin
        .send(Method::DELETE, "/api/v1/admin/providers/forge", None)
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = admin
        .send(
            Method::DELETE,
            "/api/v1/admin/providers/forge?linked_accounts=unlink",
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("fay"),
        "{body}"
    );
    let (status, _) = fay
        .post_json(
            "/api/v1/me/password",
            json!({ "new_password": "fay has a passphrase now" }),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = admin
        .send(
            Method::DELETE,
            "/api/v1/admin/providers/forge?linked_accounts=unlink",
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(identity_count(&app).await, 0);
    assert_eq!(admin.get_json("/api/v1/admin/providers/forge").await.0, 404);

    // Only admins.
    let (_, user) = app.user_signed_in(&admin, "notadmin").await;
    assert_eq!(user.get_json("/api/v1/admin/providers").await.0, 403);
    assert_eq!(
        user.post_json("/api/v1/admin/providers", sso.oidc_body("x"))
            .await
            .0,
        403
    );
    assert_eq!(
        app.browser().get_json("/api/v1/admin/providers").await.0,
        401
    );
    let kinds: Vec<String> = admin
        .get_json("/api/v1/audit")
        .await
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in [
        "admin.provider_created",
        "admin.provider_updated",
        "admin.provider_deleted",
    ] {
        assert!(kinds.iter().any(|k| k == action), "{action}");
    }
}

#[tokio::test]
async fn deleting_an_account_revokes_its_provider_grants() {
    let sso = ProviderStandIn::start().await;
    let (app, admin) = app_with_providers(&sso).await;
    sso.signs_in("github", Person::new("64", "hal", "hal@example.org"));
    let hal = app.browser();
    assert_eq!(sign_in_with(&hal, "/auth/github/start").await, "/");
    let id = me(&hal).await.1["id"].as_str().unwrap().to_owned();
    let (status, _) = admin
        .send(Method::DELETE, &format!("/api/v1/users/{id}"), None)
        .await;
    assert_eq!(status, 204);
    crate::support::wait::until(
        "the grant to be revoked",
        Duration::from_secs(5),
        || async {
            sso.revoked()
                .iter()
                .any(|r| r.starts_with("github:at-github-"))
                .then_some(())
        },
    )
    .await;
    assert_eq!(identity_count(&app).await, 0);
}
