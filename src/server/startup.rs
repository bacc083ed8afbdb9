//! Start-up and shutdown: settings, connections, migrations, then serving until a signal.

use std::{future::Future, net::SocketAddr, process::ExitCode, sync::Arc};

use fred::interfaces::ClientLike;
use leptos::{config::Env, prelude::LeptosOptions};
use tokio::{net::TcpListener, sync::Notify};

use super::{
    auth,
    config::{Config, ConfigError, Settings},
    crypto::Cipher,
    db,
    deploy::{self, cloudflare::Cloudflare, Deployer},
    docker, http,
    nginx::Nginx,
    redis, telemetry, AppState,
};

/// Exit code for a configuration problem, so scripts can tell it from a crash.
const EXIT_CONFIG: u8 = 2;

/// How long requests in flight may run on after a shutdown signal.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("cannot connect to PostgreSQL (DATABASE_URL): {0}")]
    Postgres(#[source] sqlx::Error),
    #[error("cannot apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// `ADMIN_*` settings that do not make a valid account; names the setting at fault.
    #[error("{0}")]
    Bootstrap(String),
    #[error("cannot issue the first-run setup token: {0}")]
    Setup(String),
    #[error("cannot connect to Redis (REDIS_URL): {0}")]
    Redis(#[from] fred::error::Error),
    #[error("cannot set up sign-in providers: {0}")]
    Providers(String),
    #[error("cannot listen on {addr} (LEPTOS_SITE_ADDR): {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The `slipway` binary: read settings, then run until SIGINT or SIGTERM.
pub fn main() -> ExitCode {
    let config = match Settings::from_process().and_then(|s| Config::from_settings(&s)) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("slipway: invalid configuration: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    telemetry::init_logging(&config);
    match std::env::args().nth(1).as_deref() {
        None | Some("serve") => {}
        Some(task @ ("discord-register" | "discord-commands")) => {
            return discord_task(&config, task)
        }
        Some(other) => {
            eprintln!("slipway: unknown command `{other}`; commands: serve (default), discord-register, discord-commands");
            return ExitCode::from(EXIT_CONFIG);
        }
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("slipway: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let app = match Application::build(config).await {
            Ok(app) => app,
            Err(e) => {
                tracing::error!(error = %e, "start-up failed");
                eprintln!("slipway: {e}");
                return match e {
                    StartupError::Config(_) | StartupError::Bootstrap(_) => {
                        ExitCode::from(EXIT_CONFIG)
                    }
                    _ => ExitCode::FAILURE,
                };
            }
        };
        tracing::info!(address = %app.local_addr(), "Slipway is listening on http://{}", app.local_addr());
        match app.serve(shutdown_signal()).await {
            Ok(()) => {
                tracing::info!("Slipway stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "server failed");
                ExitCode::FAILURE
            }
        }
    })
}

/// `slipway discord-register` and `slipway discord-commands`: register the role-connection
/// metadata or the slash commands with Discord, without starting the server.
fn discord_task(config: &Config, task: &str) -> ExitCode {
    if config.discord.bot_token.is_none() {
        eprintln!("slipway: invalid configuration: DISCORD_BOT_TOKEN: is not set; {task} acts as the application's bot");
        return ExitCode::from(EXIT_CONFIG);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("slipway: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let oauth = match auth::oauth::OAuth::new() {
            Ok(oauth) => oauth,
            Err(e) => {
                eprintln!("slipway: cannot make an HTTP client: {e}");
                return ExitCode::FAILURE;
            }
        };
        let api = super::discord::api::Api {
            http: &oauth.http,
            config,
        };
        let outcome = if task == "discord-register" {
            super::discord::metadata::register(&api)
                .await
                .map(|records| {
                    records
                        .iter()
                        .map(|r| format!("  {} (type {}): {}", r.key, r.kind, r.name))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
        } else {
            super::discord::interactions::register_commands(&api)
                .await
                .map(|commands| {
                    commands
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|c| format!("  /{}", c["name"].as_str().unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join("\n")
                })
        };
        match outcome {
            Ok(listing) => {
                println!("Discord now has:\n{listing}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("slipway: {task}: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// A built, bound application: tests bind port 0 and read [`Application::local_addr`].
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let nginx = Nginx::locate(&config)?;
        std::fs::create_dir_all(&config.data_dir).map_err(|e| ConfigError {
            var: "DATA_DIR",
            problem: format!("{} cannot be created: {e}", config.data_dir.display()),
        })?;

        let db = db::connect(&config).await.map_err(StartupError::Postgres)?;
        db::migrate(&db).await?;
        let setup_token =
            auth::setup::ensure(&db, &config.data_dir, config.bootstrap_admin.as_ref())
                .await
                .map_err(|e| match e {
                    auth::setup::SetupError::Admin(problem) => StartupError::Bootstrap(problem),
                    other => StartupError::Setup(other.to_string()),
                })?;
        if let Some(token) = setup_token {
            // Printed, not logged: the operator needs it once, log pipelines keep things for ever.
            eprintln!(
                "\n  No account exists yet. Register the first (admin) account with this setup token:\n\n      {token}\n\n  (also in {})\n",
                auth::setup::token_file(&config.data_dir).display()
            );
        }
        let instance_id = db::instance::instance_id(&db)
            .await
            .map_err(StartupError::Postgres)?;
        let redis = redis::connect(&config).await?;
        let live = crate::server::live::Hub::start(&config, redis.clone()).await?;
        let docker = Arc::new(docker::Engine::new(config.docker_host.clone()));
        if let Err(e) = docker.client().await {
            tracing::warn!(error = %e, "Docker engine not reachable at start-up; /health will report it");
        }

        let listener = TcpListener::bind(config.site_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.site_addr,
                source,
            })?;
        let site_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.site_addr,
            source,
        })?;

        let leptos_options = LeptosOptions::builder()
            .output_name("slipway")
            .site_root(config.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .site_addr(site_addr)
            .reload_port(config.reload_port)
            .env(if config.is_production() {
                Env::PROD
            } else {
                Env::DEV
            })
            .build();

        let sessions = auth::session_store::RedisSessionStore::new(
            redis.clone(),
            config.redis_key_prefix.clone(),
        );
        let (config_secret, config_previous, build_concurrency) = (
            config.secret_key.clone(),
            config.previous_secret_keys.clone(),
            config.deploy.build_concurrency,
        );
        let cloudflare = match &config.cloudflare {
            None => None,
            Some(settings) => Some(Arc::new(
                Cloudflare::new(&config, settings, db.clone()).map_err(|problem| ConfigError {
                    var: "CLOUDFLARE_API_BASE",
                    problem,
                })?,
            )),
        };
        let public_url: Arc<str> = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .into();
        if config.public_url.is_none() && config.is_production() {
            tracing::warn!(%public_url, "PUBLIC_URL is not set: sign-in providers will be sent back to the address Slipway listens on");
        }
        let oauth = Arc::new(
            auth::oauth::OAuth::new().map_err(|e| StartupError::Providers(e.to_string()))?,
        );
        let state = AppState {
            config: Arc::new(config),
            leptos_options,
            db,
            sessions,
            redis,
            docker,
            nginx: Arc::new(nginx),
            metrics: telemetry::metrics_handle(),
            instance_id,
            cipher: Arc::new(Cipher::new(&config_secret, &config_previous)),
            deployer: Arc::new(Deployer::new(build_concurrency)),
            live,
            cloudflare,
            oauth,
            public_url,
            discord: Arc::default(),
        };
        auth::oauth::providers::sync_from_env(&state)
            .await
            .map_err(StartupError::Providers)?;
        Ok(Self { listener, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.state.leptos_options.site_addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish for at most
    /// [`SHUTDOWN_GRACE`]: a long-lived stream must not keep the process alive for ever.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = http::router(self.state.clone());
        let deployer = deploy::start(self.state.clone());
        let discord = super::discord::roles::start(self.state.clone());
        let stopping = Arc::new(Notify::new());
        let server = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown({
            let stopping = stopping.clone();
            let live = self.state.live.clone();
            async move {
                shutdown.await;
                // Live streams never finish by themselves: end them so viewers reconnect
                // (to another process, or to this one once it is back) and shutdown is quick.
                live.close();
                stopping.notify_one();
            }
        });
        tokio::select! {
            result = server => result?,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => tracing::warn!("requests still running after {SHUTDOWN_GRACE:?}; stopping anyway"),
        }
        deployer.stop(&self.state).await;
        discord.abort();
        self.state.db.close().await;
        self.state.live.stop().await;
        if let Err(e) = self.state.redis.quit().await {
            tracing::debug!(error = %e, "closing the Redis pool");
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
