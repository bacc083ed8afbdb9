//! What deployment tests build from, made here because these machines cannot pull images or
//! reach GitHub: a base image imported from a root filesystem holding Debian's static busybox,
//! and Git repositories served over loopback with Git's "dumb" HTTP protocol (plain files).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Command,
};

use axum::{
    extract::{Path as UrlPath, State},
    http::StatusCode,
    response::IntoResponse,
    routing::get,
    Router,
};
use bollard::{query_parameters::CreateImageOptionsBuilder, Docker};
use futures_util::StreamExt;
use tokio::sync::OnceCell;

use super::env::lookup;

pub const BASE_IMAGE: &str = "slipway-test/busybox:1";
const APPLETS: &[&str] = &[
    "sh", "httpd", "echo", "cat", "ls", "sleep", "mkdir", "env", "printf", "true", "false", "nc",
];

pub async fn docker() -> Docker {
    let docker = match lookup("DOCKER_HOST").as_deref() {
        Some(host) if host.starts_with("unix://") => Docker::connect_with_socket(
            host.trim_start_matches("unix://"),
            120,
            bollard::API_DEFAULT_VERSION,
        ),
        _ => Docker::connect_with_socket_defaults(),
    }
    .expect("docker client");
    docker
        .negotiate_version()
        .await
        .unwrap_or_else(|e| panic!("the Docker engine does not answer ({e}): run `make services`"))
}

/// Imports the base image once per engine (kept between runs: it is a few hundred KiB).
pub async fn base_image() -> &'static str {
    static READY: OnceCell<()> = OnceCell::const_new();
    READY
        .get_or_init(|| async {
            let docker = docker().await;
            if docker.inspect_image(BASE_IMAGE).await.is_ok() {
                return;
            }
            let busybox = std::fs::read("/bin/busybox")
                .expect("/bin/busybox (Debian's busybox-static; `make setup` installs it)");
            let mut archive = tar::Builder::new(Vec::new());
            for dir in ["bin", "tmp", "www"] {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o1777);
                header.set_size(0);
                archive
                    .append_data(&mut header, dir, std::io::empty())
                    .unwrap();
            }
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o755);
            header.set_size(busybox.len() as u64);
            archive
                .append_data(&mut header, "bin/busybox", busybox.as_slice())
                .unwrap();
            for applet in APPLETS {
                let mut header = tar::Header::new_gnu();
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                archive
                    .append_link(&mut header, format!("bin/{applet}"), "busybox")
                    .unwrap();
            }
            let rootfs = archive.into_inner().unwrap();
            let (repo, tag) = BASE_IMAGE.split_once(':').unwrap();
            let options = CreateImageOptionsBuilder::new()
                .from_src("-")
                .repo(repo)
                .tag(tag)
                .build();
            let mut stream =
                docker.create_image(Some(options), Some(bollard::body_full(rootfs.into())), None);
            while let Some(item) = stream.next().await {
                item.expect("import the base image");
            }
        })
        .await;
    BASE_IMAGE
}

/// A directory of bare repositories served over HTTP on loopback for as long as it lives.
pub struct GitServer {
    root: tempfile::TempDir,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Repositories whose name starts with `private` need this token as the Basic password.
pub const PRIVATE_TOKEN: &str = "ghp_fixtureToken0123456789";

async fn serve_file(
    State(root): State<PathBuf>,
    UrlPath(path): UrlPath<String>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use base64::Engine as _;
    if path.split('/').any(|seg| seg == "..") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    if path.starts_with("private") {
        let password = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| pair.split_once(':').map(|(_, p)| p.to_owned()));
        if password.as_deref() != Some(PRIVATE_TOKEN) {
            return (
                StatusCode::UNAUTHORIZED,
                [(axum::http::header::WWW_AUTHENTICATE, "Basic realm=\"git\"")],
            )
                .into_response();
        }
    }
    match tokio::fs::read(root.join(&path)).await {
        Ok(bytes) => bytes.into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .args(args)
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

impl GitServer {
    pub async fn start() -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/{*path}", get(serve_file))
            .with_state(root.path().to_path_buf());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { root, addr, server }
    }

    /// Commits `files` to branch `main` of repository `name` (made on first use) and
    /// publishes it. Returns the URL to clone.
    pub fn commit(&self, name: &str, files: &[(&str, &str)]) -> String {
        let work = self.root.path().join("work").join(name);
        let bare = self.root.path().join(format!("{name}.git"));
        if !work.exists() {
            std::fs::create_dir_all(&work).unwrap();
            git(&work, &["init", "-q", "-b", "main"]);
        }
        for (path, content) in files {
            let file = work.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, content).unwrap();
        }
        git(&work, &["add", "-A"]);
        git(
            &work,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                &format!("change {}", files.len()),
            ],
        );
        if !bare.exists() {
            git(
                self.root.path(),
                &[
                    "clone",
                    "-q",
                    "--bare",
                    work.to_str().unwrap(),
                    bare.to_str().unwrap(),
                ],
            );
        } else {
            git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
        }
        git(&bare, &["update-server-info"]);
        self.url(name)
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}.git", self.addr)
    }
}

/// A web app: serves `/index.html` (built with `$GREETING`, which the build also prints) and
/// `/env.txt` (the container's `$GREETING` at start-up), on `$PORT`.
pub fn web_app(base: &str, version: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "Dockerfile",
            format!(
                "FROM {base}\n\
                 ARG GREETING=nothing\n\
                 RUN echo \"building with $GREETING\" && mkdir -p /www && echo '{version}' > /www/index.html\n\
                 EXPOSE 8080\n\
                 CMD [\"/bin/sh\", \"-c\", \"echo \\\"$GREETING\\\" > /www/env.txt && exec /bin/httpd -f -p ${{PORT:-8080}} -h /www\"]\n"
            ),
        ),
        ("README.md", format!("fixture app {version}\n")),
    ]
}

pub fn files<'a>(list: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    list.iter().map(|(p, c)| (*p, c.as_str())).collect()
}

/// `POST /api/v1/deployments`, which must accept it (202, `queued`).
pub async fn create_deployment(
    browser: &super::app::Browser,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, created) = browser.post_json("/api/v1/deployments", body).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["state"], "queued", "{created}");
    created
}

/// `DELETE /api/v1/deployments/{id}` (202), then waits until it answers 404.
pub async fn delete_deployment(browser: &super::app::Browser, id: &str) {
    let path = format!("/api/v1/deployments/{id}");
    let (status, body) = browser.send(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 202, "{body}");
    super::wait::until(
        "the deployment to be gone",
        std::time::Duration::from_secs(90),
        || async { (browser.get_json(&path).await.0 == 404).then_some(()) },
    )
    .await;
}

/// Waits until the deployment is out of the pipeline (`running`, `failed` or `stopped`, with
/// no release in progress) and returns it.
pub async fn settled(browser: &super::app::Browser, id: &str) -> serde_json::Value {
    super::wait::until(
        "the deployment to leave the pipeline",
        std::time::Duration::from_secs(180),
        || async {
            let (status, d) = browser.get_json(&format!("/api/v1/deployments/{id}")).await;
            assert_eq!(status, 200, "{d}");
            let busy = matches!(
                d["latest_release"]["state"].as_str(),
                Some("queued" | "cloning" | "building" | "starting" | "checking_health")
            );
            (!busy && matches!(d["state"].as_str(), Some("running" | "failed" | "stopped")))
                .then_some(d)
        },
    )
    .await
}
