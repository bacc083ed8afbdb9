//! Typed settings, read once at start-up from the process environment and `.env`.
//!
//! Every setting is documented in `.env.example`. A missing or invalid value is a
//! [`ConfigError`] whose one-line message names the variable, so an operator can fix it without
//! reading code. Secrets live in [`SecretKey`], whose `Debug` never prints the bytes.

use std::{
    collections::HashMap,
    fmt,
    net::SocketAddr,
    ops::RangeInclusive,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use base64::{engine::general_purpose::STANDARD, Engine as _};

/// What went wrong with one setting. `Display` is the single line printed before exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(var: &'static str, problem: impl Into<String>) -> Self {
        Self {
            var,
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// The 32-byte key everything encrypted at rest is derived from.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A connection URL that may carry a password; `Debug` shows only the scheme and host.
#[derive(Clone)]
pub struct ServiceUrl(String);

impl ServiceUrl {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ServiceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, rest) = self.0.split_once("://").unwrap_or(("?", ""));
        let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        let host = host.split(['/', '?']).next().unwrap_or_default();
        write!(f, "{scheme}://<credentials hidden>@{host}")
    }
}

/// An account to create at start-up on an empty database (`ADMIN_EMAIL` + `ADMIN_PASSWORD`).
#[derive(Clone)]
pub struct BootstrapAdmin {
    pub username: String,
    pub email: String,
    pub password: String,
}

impl fmt::Debug for BootstrapAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapAdmin")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub enum DockerHost {
    Unix(PathBuf),
    Tcp(String),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub site_addr: SocketAddr,
    pub site_root: PathBuf,
    pub reload_port: u32,
    pub database_url: ServiceUrl,
    pub database_max_connections: u32,
    pub redis_url: ServiceUrl,
    pub secret_key: SecretKey,
    /// Keys that encrypted data before the last rotation (`SECRET_KEY_PREVIOUS`, comma
    /// separated): still read, never written with.
    pub previous_secret_keys: Vec<SecretKey>,
    pub docker_host: DockerHost,
    pub base_domain: String,
    pub nginx_bin: Option<PathBuf>,
    pub nginx_sites_dir: PathBuf,
    pub nginx_listen_port: u16,
    pub nginx_conf: Option<PathBuf>,
    /// The address virtual hosts listen on (`NGINX_LISTEN_ADDR`): it must match nginx's
    /// default server, or a reload cannot bind. `None`: every address.
    pub nginx_listen_addr: Option<std::net::IpAddr>,
    pub nginx_reload_cmd: Option<String>,
    pub nginx_route_timeout: Duration,
    pub port_range: RangeInclusive<u16>,
    pub data_dir: PathBuf,
    pub log_level: String,
    pub log_format: LogFormat,
    pub health_check_timeout: Duration,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    /// Prepended to every Redis key Slipway writes itself, so installations (and test runs)
    /// can share one Redis.
    pub redis_key_prefix: String,
    pub bootstrap_admin: Option<BootstrapAdmin>,
    pub deploy: DeploySettings,
    /// Set when every `CLOUDFLARE_*` credential is: deployments then also get a tunnel
    /// ingress rule and a proxied CNAME.
    pub cloudflare: Option<CloudflareSettings>,
    /// `PUBLIC_URL`: how browsers reach Slipway, without a trailing slash. Redirect URIs
    /// registered at sign-in providers are built from it. `None`: the address it listens on.
    pub public_url: Option<String>,
    /// Sign-in providers from the environment, and where each real provider lives.
    pub providers: ProviderSettings,
    /// The Discord application behind Linked Roles and slash commands.
    pub discord: DiscordSettings,
}

/// `DISCORD_APPLICATION_ID`, `DISCORD_BOT_TOKEN`, `DISCORD_PUBLIC_KEY`. Each feature needs its
/// part: registering metadata and commands the bot token, interactions the public key, the
/// verification URL the Discord sign-in client (`DISCORD_CLIENT_*`).
#[derive(Clone)]
pub struct DiscordSettings {
    /// The application (= OAuth2 client) id; `DISCORD_CLIENT_ID` when not set.
    pub application_id: Option<String>,
    pub bot_token: Option<String>,
    /// The Ed25519 key interactions are signed with.
    pub public_key: Option<[u8; 32]>,
}

impl fmt::Debug for DiscordSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordSettings")
            .field("application_id", &self.application_id)
            .field("bot_token", &self.bot_token.as_ref().map(|_| "<redacted>"))
            .field("public_key", &self.public_key.is_some())
            .finish()
    }
}

/// A client registered at a provider, from `<NAME>_CLIENT_ID` and `<NAME>_CLIENT_SECRET`.
#[derive(Clone)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// `GOOGLE_*`, `GITHUB_*` and `DISCORD_*`. The base URLs default to the real services; tests
/// point them at local stand-ins.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub google: Option<OAuthClient>,
    pub github: Option<OAuthClient>,
    pub discord: Option<OAuthClient>,
    /// `GOOGLE_DISCOVERY_URL`: Google's OpenID configuration document.
    pub google_discovery_url: String,
    /// `GITHUB_BASE_URL`: where people authorize (`/login/oauth/...`).
    pub github_base_url: String,
    /// `GITHUB_API_BASE`: the REST API (`/user`, `/user/emails`).
    pub github_api_base: String,
    /// `DISCORD_API_BASE`: the versioned API, which also serves OAuth2 (`/oauth2/token`).
    pub discord_api_base: String,
}

/// A remotely-managed Cloudflare Tunnel and the zone its host names live in.
#[derive(Clone)]
pub struct CloudflareSettings {
    /// `CLOUDFLARE_API_BASE`, ending in `/` (the client joins relative paths to it).
    pub api_base: String,
    pub api_token: String,
    pub account_id: String,
    pub tunnel_id: String,
    pub zone_id: String,
}

impl fmt::Debug for CloudflareSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudflareSettings")
            .field("api_base", &self.api_base)
            .field("api_token", &"<redacted>")
            .field("account_id", &self.account_id)
            .field("tunnel_id", &self.tunnel_id)
            .field("zone_id", &self.zone_id)
            .finish()
    }
}

/// How repositories are fetched, built and run.
#[derive(Debug, Clone)]
pub struct DeploySettings {
    /// Hosts a repository URL may name (`GIT_ALLOWED_HOSTS`), lowercase, with an optional
    /// `:port`. `*` allows any host.
    pub git_allowed_hosts: Vec<String>,
    /// `GIT_ALLOW_HTTP`: also accept plain `http://` repository URLs.
    pub git_allow_http: bool,
    pub git_ls_remote_timeout: Duration,
    pub git_clone_timeout: Duration,
    pub build_concurrency: usize,
    pub build_memory_mb: u32,
    pub build_cpus: f64,
    pub build_timeout: Duration,
    pub health_timeout: Duration,
    pub default_memory_mb: u32,
    pub default_cpus: f64,
    pub max_memory_mb: u32,
    pub max_cpus: f64,
    /// Subdomains nobody may take, on top of the built-in list.
    pub reserved_subdomains: Vec<String>,
    pub reconcile_interval: Duration,
    /// Images of the last this-many releases are kept for rollbacks; older ones are removed.
    pub keep_releases: u32,
    /// `https` when a proxy in front terminates TLS; shown in deployment URLs.
    pub public_scheme: String,
    /// After traffic moves to a new release, how long the old one keeps running for requests
    /// in flight (`REDEPLOY_DRAIN_SECS`).
    pub drain: Duration,
}

/// Where settings are looked up: the process environment first, then `.env`.
///
/// A variable set in the environment wins even when it is empty, so `SECRET_KEY= slipway`
/// really runs without a key instead of silently falling back to the file.
pub struct Settings {
    env: HashMap<String, String>,
    dotenv: HashMap<String, String>,
}

impl Settings {
    /// The real process environment plus `.env` in the working directory, if there is one.
    pub fn from_process() -> Result<Self, ConfigError> {
        let dotenv = match dotenvy::from_path_iter(Path::new(".env")) {
            Ok(iter) => iter
                .collect::<Result<HashMap<_, _>, _>>()
                .map_err(|e| ConfigError::new("DOTENV", format!(".env cannot be parsed: {e}")))?,
            Err(e) if e.not_found() => HashMap::new(),
            Err(e) => {
                return Err(ConfigError::new(
                    "DOTENV",
                    format!(".env cannot be read: {e}"),
                ))
            }
        };
        Ok(Self {
            env: std::env::vars().collect(),
            dotenv,
        })
    }

    /// Settings from explicit pairs, as tests and embedders build them.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self {
            env: pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            dotenv: HashMap::new(),
        }
    }

    fn get(&self, var: &str) -> Option<&str> {
        self.env
            .get(var)
            .or_else(|| self.dotenv.get(var))
            .map(String::as_str)
    }

    fn required(&self, var: &'static str, hint: &str) -> Result<&str, ConfigError> {
        match self.get(var).map(str::trim) {
            None => Err(ConfigError::new(var, format!("is not set; {hint}"))),
            Some("") => Err(ConfigError::new(var, format!("is empty; {hint}"))),
            Some(value) => Ok(value),
        }
    }

    fn optional(&self, var: &str) -> Option<&str> {
        self.get(var).map(str::trim).filter(|v| !v.is_empty())
    }

    fn parsed<T: FromStr>(
        &self,
        var: &'static str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.optional(var) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| ConfigError::new(var, format!("`{raw}` is not {what}"))),
        }
    }
}

const SECRET_KEY_HINT: &str =
    "it must be 32 random bytes in base64; make one with `head -c 32 /dev/urandom | base64`";

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let app_env = match s.optional("APP_ENV").unwrap_or("development") {
            "development" | "dev" => AppEnv::Development,
            "production" | "prod" => AppEnv::Production,
            other => {
                return Err(ConfigError::new(
                    "APP_ENV",
                    format!("`{other}` is not one of development, production"),
                ))
            }
        };
        let data_dir = PathBuf::from(s.optional("DATA_DIR").unwrap_or(".data"));
        let log_format = match s.optional("LOG_FORMAT") {
            None if app_env == AppEnv::Production => LogFormat::Json,
            None => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(ConfigError::new(
                    "LOG_FORMAT",
                    format!("`{other}` is not one of json, pretty"),
                ))
            }
        };
        let log_level = s.optional("LOG_LEVEL").unwrap_or("info").to_owned();
        tracing_subscriber::EnvFilter::try_new(&log_level).map_err(|e| {
            ConfigError::new(
                "LOG_LEVEL",
                format!(
                    "`{log_level}` is not a log filter such as `info` or `slipway=debug,info`: {e}"
                ),
            )
        })?;

        Ok(Self {
            app_env,
            site_addr: s.parsed(
                "LEPTOS_SITE_ADDR",
                SocketAddr::from(([127, 0, 0, 1], 8000)),
                "an address such as 127.0.0.1:8000",
            )?,
            site_root: PathBuf::from(s.optional("LEPTOS_SITE_ROOT").unwrap_or("target/site")),
            reload_port: s.parsed("LEPTOS_RELOAD_PORT", 8001, "a port number")?,
            database_url: parse_database_url(s.required(
                "DATABASE_URL",
                "set it to a PostgreSQL URL such as postgres://slipway@localhost/slipway",
            )?)?,
            database_max_connections: match s.parsed(
                "DATABASE_MAX_CONNECTIONS",
                10u32,
                "a whole number",
            )? {
                0 => {
                    return Err(ConfigError::new(
                        "DATABASE_MAX_CONNECTIONS",
                        "must be at least 1",
                    ))
                }
                n => n,
            },
            redis_url: parse_redis_url(s.required(
                "REDIS_URL",
                "set it to a Redis URL such as redis://127.0.0.1:6379/0",
            )?)?,
            secret_key: parse_secret_key(s.required("SECRET_KEY", SECRET_KEY_HINT)?)?,
            previous_secret_keys: s
                .optional("SECRET_KEY_PREVIOUS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| {
                    parse_secret_key(k)
                        .map_err(|e| ConfigError::new("SECRET_KEY_PREVIOUS", e.problem))
                })
                .collect::<Result<_, _>>()?,
            docker_host: parse_docker_host(
                s.optional("DOCKER_HOST")
                    .unwrap_or("unix:///var/run/docker.sock"),
            )?,
            base_domain: parse_base_domain(s.optional("BASE_DOMAIN").unwrap_or("localhost"))?,
            nginx_bin: s.optional("NGINX_BIN").map(PathBuf::from),
            nginx_sites_dir: s
                .optional("NGINX_SITES_DIR")
                .map_or_else(|| data_dir.join("nginx/sites"), PathBuf::from),
            nginx_listen_port: match s.parsed("NGINX_LISTEN_PORT", 80u16, "a port number")? {
                0 => return Err(ConfigError::new("NGINX_LISTEN_PORT", "must not be 0")),
                port => port,
            },
            nginx_conf: s.optional("NGINX_CONF").map(PathBuf::from),
            nginx_listen_addr: match s.optional("NGINX_LISTEN_ADDR") {
                None => None,
                Some(raw) => Some(raw.parse().map_err(|_| {
                    ConfigError::new(
                        "NGINX_LISTEN_ADDR",
                        format!("`{raw}` is not an IP address such as 127.0.0.1"),
                    )
                })?),
            },
            nginx_reload_cmd: s.optional("NGINX_RELOAD_CMD").map(str::to_owned),
            nginx_route_timeout: seconds(s, "NGINX_ROUTE_TIMEOUT_SECS", 15)?,
            port_range: parse_port_range(s.optional("PORT_RANGE").unwrap_or("3000-3999"))?,
            data_dir,
            log_level,
            log_format,
            health_check_timeout: Duration::from_millis(
                match s.parsed(
                    "HEALTH_CHECK_TIMEOUT_MS",
                    2000u64,
                    "a number of milliseconds",
                )? {
                    0 => {
                        return Err(ConfigError::new(
                            "HEALTH_CHECK_TIMEOUT_MS",
                            "must be above 0",
                        ))
                    }
                    ms => ms,
                },
            ),
            session_idle_timeout: seconds(s, "SESSION_IDLE_TIMEOUT_SECS", 12 * 3600)?,
            session_absolute_timeout: seconds(s, "SESSION_ABSOLUTE_TIMEOUT_SECS", 7 * 24 * 3600)?,
            redis_key_prefix: s
                .optional("REDIS_KEY_PREFIX")
                .unwrap_or("slipway:")
                .to_owned(),
            bootstrap_admin: bootstrap_admin(s)?,
            deploy: deploy_settings(s)?,
            cloudflare: cloudflare_settings(s)?,
            public_url: match s.optional("PUBLIC_URL") {
                None => None,
                Some(raw) => Some(http_url("PUBLIC_URL", raw, "https://slipway.example.com")?),
            },
            providers: provider_settings(s)?,
            discord: discord_settings(s)?,
        })
    }

    pub fn is_production(&self) -> bool {
        self.app_env == AppEnv::Production
    }
}

fn bootstrap_admin(s: &Settings) -> Result<Option<BootstrapAdmin>, ConfigError> {
    let password = s.get("ADMIN_PASSWORD").filter(|p| !p.is_empty());
    match (s.optional("ADMIN_EMAIL"), password) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::new(
            "ADMIN_PASSWORD",
            "must be set together with ADMIN_EMAIL",
        )),
        (None, Some(_)) => Err(ConfigError::new(
            "ADMIN_EMAIL",
            "must be set together with ADMIN_PASSWORD",
        )),
        (Some(email), Some(password)) => Ok(Some(BootstrapAdmin {
            username: s.optional("ADMIN_USERNAME").unwrap_or("admin").to_owned(),
            email: email.to_owned(),
            // Never trimmed: a password is exactly what was written.
            password: password.to_owned(),
        })),
    }
}

const CLOUDFLARE_VARS: [&str; 4] = [
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_TUNNEL_ID",
    "CLOUDFLARE_ZONE_ID",
];

fn cloudflare_settings(s: &Settings) -> Result<Option<CloudflareSettings>, ConfigError> {
    let values = CLOUDFLARE_VARS.map(|var| s.optional(var));
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    if let Some(i) = values.iter().position(Option::is_none) {
        return Err(ConfigError::new(
            CLOUDFLARE_VARS[i],
            format!(
                "is not set; a Cloudflare Tunnel needs all of {}",
                CLOUDFLARE_VARS.join(", ")
            ),
        ));
    }
    let [Some(api_token), Some(account_id), Some(tunnel_id), Some(zone_id)] = values else {
        unreachable!("every value was checked above");
    };
    // Values are not repeated in errors: a token pasted into the wrong variable would be.
    let hex_id = |var: &'static str, raw: &str| {
        if raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(raw.to_ascii_lowercase())
        } else {
            Err(ConfigError::new(
                var,
                format!(
                    "is not a Cloudflare id (32 hexadecimal characters; this one has {})",
                    raw.chars().count()
                ),
            ))
        }
    };
    let tunnel_id = uuid::Uuid::parse_str(tunnel_id)
        .map_err(|_| {
            ConfigError::new(
                "CLOUDFLARE_TUNNEL_ID",
                "is not a tunnel id (a UUID such as c1744f8b-faa1-48a4-9e5c-02ac921467fa)",
            )
        })?
        .hyphenated()
        .to_string();
    let api_base = s
        .optional("CLOUDFLARE_API_BASE")
        .unwrap_or("https://api.cloudflare.com/client/v4");
    let parsed = api_base
        .parse::<axum::http::Uri>()
        .ok()
        .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some())
        .ok_or_else(|| {
            ConfigError::new(
                "CLOUDFLARE_API_BASE",
                format!("`{api_base}` is not an http(s) URL such as https://api.cloudflare.com/client/v4"),
            )
        })?;
    if parsed.query().is_some() {
        return Err(ConfigError::new(
            "CLOUDFLARE_API_BASE",
            format!("`{api_base}` must not have a query"),
        ));
    }
    Ok(Some(CloudflareSettings {
        api_base: format!("{}/", api_base.trim_end_matches('/')),
        api_token: api_token.to_owned(),
        account_id: hex_id("CLOUDFLARE_ACCOUNT_ID", account_id)?,
        tunnel_id,
        zone_id: hex_id("CLOUDFLARE_ZONE_ID", zone_id)?,
    }))
}

/// An http(s) URL without a query or a trailing slash; the error names `var`, never echoing
/// more than the value itself.
fn http_url(var: &'static str, raw: &str, example: &str) -> Result<String, ConfigError> {
    let ok = raw
        .parse::<axum::http::Uri>()
        .ok()
        .filter(|u| {
            matches!(u.scheme_str(), Some("http" | "https"))
                && u.host().is_some()
                && u.query().is_none()
        })
        .is_some();
    if !ok {
        return Err(ConfigError::new(
            var,
            format!("`{raw}` is not an http(s) URL without a query, such as {example}"),
        ));
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

fn provider_settings(s: &Settings) -> Result<ProviderSettings, ConfigError> {
    // Id and secret come together; the secret is never repeated in an error.
    let client = |id_var: &'static str, secret_var: &'static str| match (
        s.optional(id_var),
        s.optional(secret_var),
    ) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::new(
            secret_var,
            format!("must be set together with {id_var}"),
        )),
        (None, Some(_)) => Err(ConfigError::new(
            id_var,
            format!("must be set together with {secret_var}"),
        )),
        (Some(id), Some(secret)) => Ok(Some(OAuthClient {
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
        })),
    };
    let url = |var: &'static str, default: &str| {
        http_url(var, s.optional(var).unwrap_or(default), default)
    };
    Ok(ProviderSettings {
        google: client("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")?,
        github: client("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET")?,
        discord: client("DISCORD_CLIENT_ID", "DISCORD_CLIENT_SECRET")?,
        google_discovery_url: url(
            "GOOGLE_DISCOVERY_URL",
            "https://accounts.google.com/.well-known/openid-configuration",
        )?,
        github_base_url: url("GITHUB_BASE_URL", "https://github.com")?,
        github_api_base: url("GITHUB_API_BASE", "https://api.github.com")?,
        discord_api_base: url("DISCORD_API_BASE", "https://discord.com/api/v10")?,
    })
}

fn discord_settings(s: &Settings) -> Result<DiscordSettings, ConfigError> {
    let client_id = s.optional("DISCORD_CLIENT_ID");
    let application_id = match (s.optional("DISCORD_APPLICATION_ID"), client_id) {
        (Some(app), _) if !app.bytes().all(|b| b.is_ascii_digit()) || app.len() > 25 => {
            return Err(ConfigError::new(
                "DISCORD_APPLICATION_ID",
                "is not a Discord application id (a number such as 1234567890123456789)",
            ))
        }
        (Some(app), Some(client)) if app != client => {
            return Err(ConfigError::new(
                "DISCORD_APPLICATION_ID",
                "differs from DISCORD_CLIENT_ID: a Discord application's OAuth2 client id is its application id",
            ))
        }
        (app, client) => app.or(client).map(str::to_owned),
    };
    let public_key = match s.optional("DISCORD_PUBLIC_KEY") {
        None => None,
        Some(hex) => Some(
            decode_hex32(hex).ok_or_else(|| {
                ConfigError::new(
                    "DISCORD_PUBLIC_KEY",
                    "is not the application's public key (64 hexadecimal characters, from the developer portal's General Information page)",
                )
            })?,
        ),
    };
    let bot_token = s.optional("DISCORD_BOT_TOKEN").map(str::to_owned);
    if (bot_token.is_some() || public_key.is_some()) && application_id.is_none() {
        return Err(ConfigError::new(
            "DISCORD_APPLICATION_ID",
            "is not set (nor DISCORD_CLIENT_ID); the bot token and public key belong to an application",
        ));
    }
    Ok(DiscordSettings {
        application_id,
        bot_token,
        public_key,
    })
}

fn decode_hex32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

const DEFAULT_GIT_HOSTS: &str = "github.com,gitlab.com,codeberg.org,bitbucket.org";

fn deploy_settings(s: &Settings) -> Result<DeploySettings, ConfigError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let git_allowed_hosts: Vec<String> = s
        .optional("GIT_ALLOWED_HOSTS")
        .unwrap_or(DEFAULT_GIT_HOSTS)
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect();
    if git_allowed_hosts.is_empty() {
        return Err(ConfigError::new(
            "GIT_ALLOWED_HOSTS",
            "names no host; list hosts such as github.com,gitlab.com or `*` for any",
        ));
    }
    if let Some(bad) = git_allowed_hosts.iter().find(|h| {
        h.as_str() != "*"
            && !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    }) {
        return Err(ConfigError::new(
            "GIT_ALLOWED_HOSTS",
            format!("`{bad}` is not a host name such as github.com or 127.0.0.1:9000"),
        ));
    }
    let git_allow_http = match s.optional("GIT_ALLOW_HTTP").unwrap_or("false") {
        "true" | "1" | "yes" => true,
        "false" | "0" | "no" => false,
        other => {
            return Err(ConfigError::new(
                "GIT_ALLOW_HTTP",
                format!("`{other}` is not true or false"),
            ))
        }
    };
    let build_concurrency = match s.parsed("BUILD_CONCURRENCY", 1usize, "a whole number")? {
        0 => return Err(ConfigError::new("BUILD_CONCURRENCY", "must be at least 1")),
        n => n,
    };
    // The engine takes a build's memory cap as a 32-bit byte count.
    let build_memory_mb = match s.parsed("BUILD_MEMORY_MB", 2047u32, "a number of MiB")? {
        n @ 64..=2047 => n,
        _ => {
            return Err(ConfigError::new(
                "BUILD_MEMORY_MB",
                "must be between 64 and 2047 (the engine's limit for builds)",
            ))
        }
    };
    let cpus = |var: &'static str, default: f64| -> Result<f64, ConfigError> {
        let value: f64 = s.parsed(var, default, "a number of CPUs such as 1 or 0.5")?;
        if !(0.01..=1024.0).contains(&value) {
            return Err(ConfigError::new(var, "must be between 0.01 and 1024"));
        }
        Ok(value)
    };
    let memory = |var: &'static str, default: u32| -> Result<u32, ConfigError> {
        let value: u32 = s.parsed(var, default, "a number of MiB")?;
        if value < 6 {
            return Err(ConfigError::new(
                var,
                "must be at least 6 MiB (Docker's minimum)",
            ));
        }
        Ok(value)
    };
    let public_scheme = match s.optional("PUBLIC_SCHEME").unwrap_or("http") {
        scheme @ ("http" | "https") => scheme.to_owned(),
        other => {
            return Err(ConfigError::new(
                "PUBLIC_SCHEME",
                format!("`{other}` is not one of http, https"),
            ))
        }
    };
    Ok(DeploySettings {
        git_allowed_hosts,
        git_allow_http,
        git_ls_remote_timeout: seconds(s, "GIT_LS_REMOTE_TIMEOUT_SECS", 20)?,
        git_clone_timeout: seconds(s, "GIT_CLONE_TIMEOUT_SECS", 600)?,
        build_concurrency,
        build_memory_mb,
        build_cpus: cpus("BUILD_CPUS", cores.min(2.0))?,
        build_timeout: seconds(s, "BUILD_TIMEOUT_SECS", 1800)?,
        health_timeout: seconds(s, "DEPLOY_HEALTH_TIMEOUT_SECS", 60)?,
        default_memory_mb: memory("DEFAULT_MEMORY_MB", 512)?,
        default_cpus: cpus("DEFAULT_CPUS", 1.0f64.min(cores))?,
        max_memory_mb: memory("MAX_MEMORY_MB", 16384)?,
        max_cpus: cpus("MAX_CPUS", cores)?,
        reserved_subdomains: s
            .optional("RESERVED_SUBDOMAINS")
            .unwrap_or_default()
            .split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect(),
        reconcile_interval: seconds(s, "RECONCILE_INTERVAL_SECS", 60)?,
        keep_releases: match s.parsed("KEEP_RELEASES", 3u32, "a whole number")? {
            0 => return Err(ConfigError::new("KEEP_RELEASES", "must be at least 1")),
            n => n,
        },
        public_scheme,
        drain: Duration::from_secs(s.parsed(
            "REDEPLOY_DRAIN_SECS",
            10u64,
            "a number of seconds",
        )?),
    })
}

fn seconds(s: &Settings, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match s.parsed(var, default, "a number of seconds")? {
        0 => Err(ConfigError::new(var, "must be above 0")),
        secs => Ok(Duration::from_secs(secs)),
    }
}

fn parse_database_url(raw: &str) -> Result<ServiceUrl, ConfigError> {
    let err =
        |why: &str| ConfigError::new("DATABASE_URL", format!("is not a PostgreSQL URL: {why}"));
    let rest = raw
        .strip_prefix("postgres://")
        .or_else(|| raw.strip_prefix("postgresql://"))
        .ok_or_else(|| err("it must start with postgres:// or postgresql://"))?;
    // Let sqlx judge the rest (ports, options); its message never echoes the password.
    raw.parse::<sqlx::postgres::PgConnectOptions>()
        .map_err(|e| err(&e.to_string()))?;
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() && !rest.contains("host=") {
        return Err(err("it names no host"));
    }
    Ok(ServiceUrl(raw.to_owned()))
}

fn parse_redis_url(raw: &str) -> Result<ServiceUrl, ConfigError> {
    if !(raw.starts_with("redis://") || raw.starts_with("rediss://")) {
        return Err(ConfigError::new(
            "REDIS_URL",
            "is not a Redis URL: it must start with redis:// or rediss://",
        ));
    }
    fred::types::config::Config::from_url(raw).map_err(|e| {
        ConfigError::new(
            "REDIS_URL",
            format!("is not a valid Redis URL: {}", e.details()),
        )
    })?;
    Ok(ServiceUrl(raw.to_owned()))
}

fn parse_secret_key(raw: &str) -> Result<SecretKey, ConfigError> {
    let bytes = STANDARD.decode(raw).map_err(|_| {
        ConfigError::new(
            "SECRET_KEY",
            format!("is not valid base64; {SECRET_KEY_HINT}"),
        )
    })?;
    let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
        ConfigError::new(
            "SECRET_KEY",
            format!("decodes to {} bytes, not 32; {SECRET_KEY_HINT}", b.len()),
        )
    })?;
    Ok(SecretKey(key))
}

fn parse_docker_host(raw: &str) -> Result<DockerHost, ConfigError> {
    if let Some(path) = raw.strip_prefix("unix://") {
        if path.is_empty() {
            return Err(ConfigError::new(
                "DOCKER_HOST",
                "unix:// needs a socket path",
            ));
        }
        Ok(DockerHost::Unix(PathBuf::from(path)))
    } else if let Some(addr) = raw
        .strip_prefix("tcp://")
        .or_else(|| raw.strip_prefix("http://"))
    {
        if addr.is_empty() {
            return Err(ConfigError::new("DOCKER_HOST", "tcp:// needs host:port"));
        }
        Ok(DockerHost::Tcp(format!("http://{addr}")))
    } else {
        Err(ConfigError::new(
            "DOCKER_HOST",
            format!("`{raw}` must start with unix:// or tcp://"),
        ))
    }
}

fn parse_base_domain(raw: &str) -> Result<String, ConfigError> {
    let domain = raw.trim_end_matches('.').to_ascii_lowercase();
    let valid_label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if domain.len() > 253 || !domain.split('.').all(valid_label) {
        return Err(ConfigError::new(
            "BASE_DOMAIN",
            format!("`{raw}` is not a domain name such as apps.example.com"),
        ));
    }
    Ok(domain)
}

fn parse_port_range(raw: &str) -> Result<RangeInclusive<u16>, ConfigError> {
    let err = |why: &str| ConfigError::new("PORT_RANGE", format!("`{raw}` {why}"));
    let (start, end) = raw
        .split_once('-')
        .ok_or_else(|| err("must be two ports joined by a hyphen, such as 3000-3999"))?;
    let port = |p: &str| {
        p.trim().parse::<u16>().map_err(|_| {
            err("must be two ports (1024-65535) joined by a hyphen, such as 3000-3999")
        })
    };
    let (start, end) = (port(start)?, port(end)?);
    if start < 1024 {
        return Err(err("starts below 1024, where system services live"));
    }
    if start > end {
        return Err(err("starts after it ends"));
    }
    Ok(start..=end)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn with(overrides: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
        let mut pairs: HashMap<&str, &str> = [
            (
                "DATABASE_URL",
                "postgres://slipway:pw@localhost:5432/slipway",
            ),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ("SECRET_KEY", KEY),
        ]
        .into();
        for (k, v) in overrides {
            pairs.insert(k, v);
        }
        Config::from_settings(&Settings::from_pairs(pairs))
    }

    fn without(var: &str) -> Result<Config, ConfigError> {
        let pairs = [
            ("DATABASE_URL", "postgres://slipway@localhost/slipway"),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
            ("SECRET_KEY", KEY),
        ];
        Config::from_settings(&Settings::from_pairs(
            pairs.into_iter().filter(|(k, _)| *k != var),
        ))
    }

    #[test]
    fn defaults_fill_everything_but_the_three_required_settings() {
        let config = with(&[]).expect("valid");
        assert_eq!(config.site_addr.to_string(), "127.0.0.1:8000");
        assert_eq!(config.port_range, 3000..=3999);
        assert_eq!(config.base_domain, "localhost");
        assert_eq!(config.nginx_sites_dir, PathBuf::from(".data/nginx/sites"));
        assert_eq!(config.app_env, AppEnv::Development);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.secret_key.expose()[31], 31);
    }

    #[test]
    fn missing_secret_key_names_it_and_says_how_to_make_one() {
        let err = without("SECRET_KEY").unwrap_err();
        assert_eq!(err.var, "SECRET_KEY");
        assert!(
            err.to_string().starts_with("SECRET_KEY: is not set"),
            "{err}"
        );
        assert!(err.to_string().contains("/dev/urandom"), "{err}");
    }

    #[test]
    fn empty_or_short_secret_key_is_refused() {
        assert_eq!(with(&[("SECRET_KEY", "")]).unwrap_err().var, "SECRET_KEY");
        let err = with(&[("SECRET_KEY", "c2hvcnQ=")]).unwrap_err();
        assert!(err.to_string().contains("5 bytes, not 32"), "{err}");
        assert_eq!(
            with(&[("SECRET_KEY", "not base64!")]).unwrap_err().var,
            "SECRET_KEY"
        );
    }

    #[test]
    fn malformed_database_url_names_it() {
        for bad in [
            "mysql://x@y/z",
            "localhost:5432",
            "postgres://user@host:notaport/db",
        ] {
            let err = with(&[("DATABASE_URL", bad)]).unwrap_err();
            assert_eq!(err.var, "DATABASE_URL", "{bad}: {err}");
        }
        assert_eq!(without("DATABASE_URL").unwrap_err().var, "DATABASE_URL");
    }

    #[test]
    fn database_url_error_never_echoes_the_password() {
        let err = with(&[("DATABASE_URL", "postgres://u:hunter2@host:bad/db")]).unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn invalid_port_range_names_it() {
        for bad in ["3000", "4000-3000", "80-90", "3000-70000", "a-b"] {
            let err = with(&[("PORT_RANGE", bad)]).unwrap_err();
            assert_eq!(err.var, "PORT_RANGE", "{bad}: {err}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert_eq!(
            with(&[("PORT_RANGE", "5000-5000")]).unwrap().port_range,
            5000..=5000
        );
    }

    #[test]
    fn other_invalid_settings_name_their_variable() {
        let cases = [
            ("APP_ENV", "staging"),
            ("LOG_FORMAT", "xml"),
            ("LOG_LEVEL", "slipway=loud"),
            ("REDIS_URL", "http://localhost"),
            ("DOCKER_HOST", "ssh://host"),
            ("BASE_DOMAIN", "-bad-.example"),
            ("NGINX_LISTEN_PORT", "99999"),
            ("LEPTOS_SITE_ADDR", "nowhere"),
            ("HEALTH_CHECK_TIMEOUT_MS", "0"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
        ];
        for (var, value) in cases {
            let overrides = [(var, value)];
            assert_eq!(with(&overrides).unwrap_err().var, var, "{var}={value}");
        }
    }

    #[test]
    fn admin_email_and_password_come_together_and_the_password_stays_hidden() {
        assert_eq!(
            with(&[("ADMIN_EMAIL", "a@example.com")]).unwrap_err().var,
            "ADMIN_PASSWORD"
        );
        assert_eq!(
            with(&[("ADMIN_PASSWORD", "x")]).unwrap_err().var,
            "ADMIN_EMAIL"
        );
        let config = with(&[
            ("ADMIN_EMAIL", "a@example.com"),
            ("ADMIN_PASSWORD", " secret words here "),
        ])
        .unwrap();
        let admin = config.bootstrap_admin.clone().unwrap();
        assert_eq!(
            (admin.username.as_str(), admin.password.as_str()),
            ("admin", " secret words here ")
        );
        assert!(!format!("{config:?}").contains("secret words"));
    }

    #[test]
    fn cloudflare_needs_all_four_credentials_and_never_prints_the_token() {
        assert!(with(&[]).unwrap().cloudflare.is_none());
        let all = [
            ("CLOUDFLARE_API_TOKEN", "cf-token-Secret123"),
            ("CLOUDFLARE_ACCOUNT_ID", "023e105f4ecef8ad9ca31a8372d0c353"),
            (
                "CLOUDFLARE_TUNNEL_ID",
                "F70FF985-A4EF-4643-BBBC-4A0ED4FC8415",
            ),
            ("CLOUDFLARE_ZONE_ID", "023E105F4ECEF8AD9CA31A8372D0C353"),
        ];
        let cf = with(&all).unwrap().cloudflare.expect("configured");
        assert_eq!(cf.api_base, "https://api.cloudflare.com/client/v4/");
        assert_eq!(cf.tunnel_id, "f70ff985-a4ef-4643-bbbc-4a0ed4fc8415");
        assert_eq!(cf.zone_id, "023e105f4ecef8ad9ca31a8372d0c353");
        assert!(!format!("{cf:?}").contains("Secret123"));

        for missing in 0..all.len() {
            let some: Vec<_> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, kv)| *kv)
                .collect();
            let err = with(&some).unwrap_err();
            assert_eq!(err.var, all[missing].0, "{err}");
            assert!(err.to_string().contains("needs all of"), "{err}");
        }
        for (var, value) in [
            ("CLOUDFLARE_ZONE_ID", "cf-token-Secret123"),
            ("CLOUDFLARE_TUNNEL_ID", "cf-token-Secret123"),
            ("CLOUDFLARE_ZONE_ID", "example.com"),
            ("CLOUDFLARE_ACCOUNT_ID", "023e105f"),
            ("CLOUDFLARE_TUNNEL_ID", "my-tunnel"),
            ("CLOUDFLARE_API_BASE", "ftp://api.example.com"),
            ("CLOUDFLARE_API_BASE", "api.cloudflare.com"),
        ] {
            let mut pairs = all.to_vec();
            pairs.push((var, value));
            let err = with(&pairs).unwrap_err();
            assert_eq!(err.var, var, "{err}");
            assert!(!err.to_string().contains("Secret123"), "{err}");
        }
        let mut pairs = all.to_vec();
        pairs.push(("CLOUDFLARE_API_BASE", "http://127.0.0.1:9/client/v4/"));
        let cf = with(&pairs).unwrap().cloudflare.unwrap();
        assert_eq!(cf.api_base, "http://127.0.0.1:9/client/v4/");
    }

    #[test]
    fn provider_clients_need_id_and_secret_and_the_secret_stays_hidden() {
        let config = with(&[]).unwrap();
        assert!(config.providers.github.is_none());
        assert_eq!(config.providers.github_api_base, "https://api.github.com");
        assert_eq!(
            config.providers.discord_api_base,
            "https://discord.com/api/v10"
        );
        assert_eq!(config.public_url, None);
        assert_eq!(
            with(&[("GITHUB_CLIENT_ID", "Iv1.abc")]).unwrap_err().var,
            "GITHUB_CLIENT_SECRET"
        );
        assert_eq!(
            with(&[("DISCORD_CLIENT_SECRET", "shh-Secret99")])
                .unwrap_err()
                .var,
            "DISCORD_CLIENT_ID"
        );
        let config = with(&[
            ("GOOGLE_CLIENT_ID", "123.apps.googleusercontent.com"),
            ("GOOGLE_CLIENT_SECRET", "GOCSPX-Secret42"),
            ("GITHUB_BASE_URL", "http://127.0.0.1:9/github/"),
            ("PUBLIC_URL", "https://slipway.example.com/"),
        ])
        .unwrap();
        let google = config.providers.google.clone().unwrap();
        assert_eq!(google.client_secret, "GOCSPX-Secret42");
        assert_eq!(
            config.providers.github_base_url,
            "http://127.0.0.1:9/github"
        );
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://slipway.example.com")
        );
        assert!(!format!("{config:?}").contains("Secret42"));
        for (var, value) in [
            ("PUBLIC_URL", "slipway.example.com"),
            ("PUBLIC_URL", "https://x.example.com/?a=b"),
            ("GITHUB_API_BASE", "ftp://api.github.com"),
            ("DISCORD_API_BASE", "not a url"),
            ("GOOGLE_DISCOVERY_URL", "accounts.google.com"),
        ] {
            assert_eq!(with(&[(var, value)]).unwrap_err().var, var, "{var}={value}");
        }
    }

    #[test]
    fn discord_settings_belong_to_one_application_and_the_bot_token_stays_hidden() {
        let none = with(&[]).unwrap().discord;
        assert!(none.application_id.is_none() && none.bot_token.is_none());
        let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
        let config = with(&[
            ("DISCORD_CLIENT_ID", "1234567890"),
            ("DISCORD_CLIENT_SECRET", "s"),
            ("DISCORD_BOT_TOKEN", "MTIz.bot-Secret77"),
            ("DISCORD_PUBLIC_KEY", key),
        ])
        .unwrap();
        assert_eq!(config.discord.application_id.as_deref(), Some("1234567890"));
        assert_eq!(config.discord.public_key.unwrap()[0], 0xd7);
        assert!(!format!("{config:?}").contains("Secret77"));
        for (pairs, var) in [
            (vec![("DISCORD_PUBLIC_KEY", "nothex")], "DISCORD_PUBLIC_KEY"),
            (vec![("DISCORD_BOT_TOKEN", "t")], "DISCORD_APPLICATION_ID"),
            (
                vec![("DISCORD_APPLICATION_ID", "app-1")],
                "DISCORD_APPLICATION_ID",
            ),
            (
                vec![
                    ("DISCORD_APPLICATION_ID", "1"),
                    ("DISCORD_CLIENT_ID", "2"),
                    ("DISCORD_CLIENT_SECRET", "s"),
                ],
                "DISCORD_APPLICATION_ID",
            ),
        ] {
            assert_eq!(with(&pairs).unwrap_err().var, var, "{pairs:?}");
        }
    }

    #[test]
    fn production_defaults_to_json_logs() {
        let config = with(&[("APP_ENV", "production")]).unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(config.is_production());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = with(&[("REDIS_URL", "redis://:s3cret@cache:6379/1")]).unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("pw@"), "{printed}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(!printed.contains(KEY), "{printed}");
        assert!(printed.contains("cache:6379"), "{printed}");
    }
}
