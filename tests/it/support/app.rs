//! [`TestApp`]: a Slipway server on a random port with a database of its own.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::atomic::{AtomicU32, Ordering},
};

use slipway::server::{
    config::{Config, Settings},
    AppState, Application,
};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tokio::{sync::oneshot, task::JoinHandle};

use super::env::{database_url_for, lookup, required};

pub const ADMIN_PASSWORD: &str = "a long admin passphrase";

/// A person's browser: a cookie jar and the server's address.
pub struct Browser {
    pub client: reqwest::Client,
    base: String,
}

impl Browser {
    /// A browser of a server started elsewhere (the real binary, say).
    pub fn at(base: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            base: base.to_owned(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        json_of(response).await
    }

    /// Any method, with an optional JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        json_of(response).await
    }

    /// Status and body as text (for non-JSON answers such as JSON lines).
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        json_of(response).await
    }
}

/// Status and JSON body (`null` for an empty one).
pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
    };
    (status, body)
}

pub struct TestApp {
    /// The app's own database (on the shared server).
    pub database: String,
    /// The app's own nginx, which its virtual hosts go to.
    pub nginx: super::services::PrivateNginx,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    _data_dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct TestAppBuilder {
    /// A PostgreSQL server URL (any database) to create the test database on, instead of
    /// the shared one.
    postgres_url: Option<String>,
    redis_url: Option<String>,
    overrides: HashMap<String, String>,
    /// Another app's database, to run a second Slipway process on it.
    database: Option<String>,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        let body = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: body is not JSON: {e}"));
        (status, body)
    }

    /// A client with its own cookie jar: one browser, one person.
    pub fn browser(&self) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            base: self.url(""),
        }
    }

    /// The first-run token Slipway wrote to its data directory.
    pub fn setup_token(&self) -> String {
        std::fs::read_to_string(self._data_dir.path().join("setup-token"))
            .expect("setup token file")
            .trim()
            .to_owned()
    }

    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// Registers the first account (the admin) and returns its signed-in browser.
    pub async fn with_admin(&self) -> Browser {
        let browser = self.browser();
        let (status, body) = browser
            .post_json(
                "/api/v1/auth/register",
                serde_json::json!({
                    "username": "admin",
                    "email": "admin@example.com",
                    "password": ADMIN_PASSWORD,
                    "setup_token": self.setup_token(),
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        browser
    }

    /// Registers the first admin with a plain client, for servers whose cookie a cookie jar
    /// would refuse over plain http (`__Host-` cookies need https).
    /// A browser signed in as `login` (an account that exists already).
    pub async fn signed_in(&self, login: &str, password: &str) -> Browser {
        let browser = self.browser();
        let (status, body) = browser
            .post_json(
                "/api/v1/auth/login",
                serde_json::json!({ "login": login, "password": password }),
            )
            .await;
        assert_eq!(status, 200, "signing in as {login}: {body}");
        browser
    }

    /// A user `admin` creates; returns the user's id and a browser signed in as them.
    pub async fn user_signed_in(&self, admin: &Browser, username: &str) -> (String, Browser) {
        let password = format!("a long passphrase of {username}");
        let (status, created) = admin
            .post_json(
                "/api/v1/users",
                serde_json::json!({
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": password,
                    "role": "user",
                }),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_str().expect("user id").to_owned();
        (id, self.signed_in(username, &password).await)
    }

    pub async fn with_admin_cookie_name(&self, expected_cookie: &str) {
        let response = self
            .client
            .post(self.url("/api/v1/auth/register"))
            .json(&serde_json::json!({
                "username": "admin",
                "email": "admin@example.com",
                "password": ADMIN_PASSWORD,
                "setup_token": self.setup_token(),
            }))
            .send()
            .await
            .expect("register");
        assert_eq!(response.status(), 201);
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.starts_with(&format!("{expected_cookie}=")),
            "{cookie}"
        );
    }

    /// Stops the server the way SIGTERM does, letting requests in flight finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        remove_docker_objects(self.state.instance_id);
    }
}

/// Removes the containers and images this app made, even when its test failed half-way.
/// Drop cannot wait on async code, so this uses the docker CLI.
pub fn remove_docker_objects(instance: uuid::Uuid) {
    let label = format!("label=slipway.instance={instance}");
    let script = format!(
        "c=$(docker ps -aq --filter {label}); [ -z \"$c\" ] || docker rm -fv $c >/dev/null; \
         i=$(docker images -q --filter {label} | sort -u); [ -z \"$i\" ] || docker rmi -f $i >/dev/null; true"
    );
    let _ = std::process::Command::new("sh")
        .args(["-c", &script])
        .status();
}

/// A slice of 20 ports per app, apart from `make run`'s 3000-3999.
pub fn port_range() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 1500;
    let start = 20_000 + n * 20;
    format!("{start}-{}", start + 19)
}

impl TestAppBuilder {
    pub fn postgres(mut self, server_url: impl Into<String>) -> Self {
        self.postgres_url = Some(server_url.into());
        self
    }

    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    pub fn database(mut self, name: &str) -> Self {
        self.database = Some(name.to_owned());
        self
    }

    /// Routes deployments through a Cloudflare stand-in's tunnel and zone.
    pub fn cloudflare(mut self, cf: &super::cloudflare::CloudflareStandIn) -> Self {
        for (var, value) in cf.settings() {
            self.overrides.insert(var.into(), value);
        }
        self
    }

    pub fn setting(mut self, var: &str, value: impl Into<String>) -> Self {
        self.overrides.insert(var.to_owned(), value.into());
        self
    }

    pub async fn build(self) -> TestApp {
        let server_url = self
            .postgres_url
            .unwrap_or_else(|| required("DATABASE_URL"));
        let database_name = match self.database {
            Some(name) => name,
            None => create_database(&server_url).await,
        };
        let data_dir = tempfile::tempdir().expect("temp dir");
        let nginx = super::services::PrivateNginx::start().await;

        let mut vars: HashMap<String, String> = HashMap::from([
            (
                "DATABASE_URL".into(),
                database_url_for(&server_url, &database_name),
            ),
            (
                "REDIS_URL".into(),
                self.redis_url.unwrap_or_else(|| required("REDIS_URL")),
            ),
            ("SECRET_KEY".into(), required("SECRET_KEY")),
            ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
            (
                "LEPTOS_SITE_ROOT".into(),
                super::env::repo_root()
                    .join("target/site")
                    .display()
                    .to_string(),
            ),
            ("DATA_DIR".into(), data_dir.path().display().to_string()),
            ("NGINX_LISTEN_PORT".into(), nginx.port.to_string()),
            ("NGINX_CONF".into(), nginx.conf.display().to_string()),
            ("NGINX_LISTEN_ADDR".into(), "127.0.0.1".into()),
            ("NGINX_SITES_DIR".into(), nginx.sites.display().to_string()),
            ("HEALTH_CHECK_TIMEOUT_MS".into(), "1000".into()),
            ("DATABASE_MAX_CONNECTIONS".into(), "4".into()),
            ("LOG_LEVEL".into(), "warn".into()),
            // Rate-limit counters of one test must not leak into another's.
            ("REDIS_KEY_PREFIX".into(), format!("{database_name}:")),
            // Fixture repositories are served over plain HTTP on loopback.
            ("GIT_ALLOWED_HOSTS".into(), "127.0.0.1".into()),
            ("GIT_ALLOW_HTTP".into(), "true".into()),
            // Apps of parallel tests share the host: each gets ports of its own.
            ("PORT_RANGE".into(), port_range()),
            ("DEPLOY_HEALTH_TIMEOUT_SECS".into(), "30".into()),
            ("REDEPLOY_DRAIN_SECS".into(), "1".into()),
            ("BUILD_MEMORY_MB".into(), "256".into()),
            ("DEFAULT_MEMORY_MB".into(), "64".into()),
        ]);
        if let Some(docker_host) = lookup("DOCKER_HOST") {
            vars.insert("DOCKER_HOST".into(), docker_host);
        }
        vars.extend(self.overrides);

        let settings = Settings::from_pairs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let config = Config::from_settings(&settings).expect("test settings are valid");
        slipway::server::telemetry::init_logging(&config);
        let app = Application::build(config)
            .await
            .unwrap_or_else(|e| panic!("Slipway did not start: {e}"));
        let addr = app.local_addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(app.serve(async {
            let _ = rx.await;
        }));

        TestApp {
            database: database_name,
            nginx,
            addr,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            state,
            shutdown: Some(tx),
            server: Some(server),
            _data_dir: data_dir,
        }
    }
}

/// Creates `slipway_test_<pid>_<n>` and, once per process, drops databases left by test
/// processes that no longer run (a crashed or interrupted run leaves them behind).
pub async fn create_database(server_url: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let pid = std::process::id();
    let name = format!(
        "slipway_test_{pid}_{}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin_url = database_url_for(server_url, "postgres");
    let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("cannot connect to PostgreSQL to create a test database ({e}): run `make services`")
    });

    drop_stale_databases(&mut conn).await;
    // The name is ours: a prefix, a pid and a counter.
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
    name
}

async fn drop_stale_databases(conn: &mut PgConnection) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'slipway\\_test\\_%'",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("list test databases");
    for name in names {
        let owner_pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive =
            owner_pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            // Another process may drop it at the same moment: ignore "does not exist".
            let quoted = name.replace('"', "\"\"");
            let drop = format!("DROP DATABASE IF EXISTS \"{quoted}\" WITH (FORCE)");
            let _ = sqlx::query(AssertSqlSafe(drop)).execute(&mut *conn).await;
        }
    }
}
