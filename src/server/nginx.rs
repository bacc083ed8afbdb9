//! nginx: where its binary is, where Slipway writes virtual hosts, whether it is serving, and
//! the virtual hosts themselves: one file per deployment, rendered from a template, written
//! atomically, checked with `nginx -t` (the previous file comes back if the check fails) and
//! loaded with a reload.

use std::{
    io,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use super::config::{Config, ConfigError};

#[derive(Debug)]
pub struct Nginx {
    pub bin: PathBuf,
    pub sites_dir: PathBuf,
    pub listen_port: u16,
    pub listen_addr: Option<std::net::IpAddr>,
    /// The main configuration (`NGINX_CONF`) that includes `sites_dir`; nginx's own default
    /// when unset.
    pub conf: Option<PathBuf>,
    /// How long nginx may take to serve a new configuration (`NGINX_ROUTE_TIMEOUT_SECS`).
    pub route_timeout: std::time::Duration,
    /// `NGINX_RELOAD_CMD`, run with `sh -c`, instead of `nginx -s reload`.
    pub reload_cmd: Option<String>,
    /// One change (write, check, reload) at a time: a check must see one consistent set.
    changes: tokio::sync::Mutex<()>,
}

impl Nginx {
    /// Finds the nginx binary and makes sure the sites directory exists and is writable.
    pub fn locate(config: &Config) -> Result<Self, ConfigError> {
        let bin = match &config.nginx_bin {
            Some(bin) if is_executable(bin) => bin.clone(),
            Some(bin) => {
                return Err(ConfigError {
                    var: "NGINX_BIN",
                    problem: format!("{} is not an executable file", bin.display()),
                })
            }
            None => find_on_path("nginx").ok_or_else(|| ConfigError {
                var: "NGINX_BIN",
                problem:
                    "nginx was not found on PATH nor in /usr/sbin; install nginx or set NGINX_BIN"
                        .into(),
            })?,
        };
        let nginx = Self {
            bin,
            sites_dir: config.nginx_sites_dir.clone(),
            listen_port: config.nginx_listen_port,
            listen_addr: config.nginx_listen_addr,
            conf: config.nginx_conf.clone(),
            reload_cmd: config.nginx_reload_cmd.clone(),
            route_timeout: config.nginx_route_timeout,
            changes: tokio::sync::Mutex::new(()),
        };
        std::fs::create_dir_all(&nginx.sites_dir)
            .and_then(|()| nginx.probe_sites_dir())
            .map_err(|e| ConfigError {
                var: "NGINX_SITES_DIR",
                problem: format!(
                    "{} is not a writable directory: {e}",
                    nginx.sites_dir.display()
                ),
            })?;
        Ok(nginx)
    }

    /// Writes and removes a probe file: the only reliable test of writability (permissions,
    /// read-only mounts and full disks all show up here).
    pub fn probe_sites_dir(&self) -> io::Result<()> {
        // One name per probe: concurrent health checks must not remove each other's file.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let probe = self.sites_dir.join(format!(
            ".slipway-probe-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&probe, b"")?;
        std::fs::remove_file(&probe)
    }
}

/// What a deployment's virtual host says.
pub struct Site<'a> {
    pub deployment: uuid::Uuid,
    pub host: &'a str,
    pub upstream_port: u16,
}

const SITE_TEMPLATE: &str = include_str!("../../templates/nginx-site.conf.j2");

const ROUTE_HEADER: &str = "X-Slipway-Route";

/// The revision a site file carries.
fn written_revision(text: &str) -> Option<String> {
    text.lines()
        .find(|l| l.contains(ROUTE_HEADER))
        .and_then(|l| l.split('"').nth(1))
        .map(str::to_owned)
}

/// Answers in a row that must show a configuration before it counts as served.
const ROUTE_CONFIRMATIONS: u32 = 5;

impl Nginx {
    pub fn site_path(&self, deployment: uuid::Uuid) -> PathBuf {
        self.sites_dir.join(format!("slipway-{deployment}.conf"))
    }

    /// The virtual host text. Every value is one Slipway validated (a DNS name, a port, an
    /// id), so nothing a user typed can open a block or add a directive.
    pub fn render(&self, site: &Site<'_>) -> Result<String, String> {
        self.render_with(site, &self.revision(site))
    }

    fn render_with(&self, site: &Site<'_>, revision: &str) -> Result<String, String> {
        let host_ok = !site.host.is_empty()
            && site
                .host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !host_ok {
            return Err(format!(
                "`{}` is not a host name nginx can serve",
                site.host
            ));
        }
        // Parsed once: the template is compiled into the binary.
        static TEMPLATES: std::sync::OnceLock<minijinja::Environment<'static>> =
            std::sync::OnceLock::new();
        TEMPLATES
            .get_or_init(|| {
                let mut env = minijinja::Environment::new();
                env.add_template("site", SITE_TEMPLATE)
                    .expect("templates/nginx-site.conf.j2 parses");
                env
            })
            .get_template("site")
            .and_then(|t| {
                t.render(minijinja::context! {
                    deployment => site.deployment.to_string(),
                    host => site.host,
                    listen => match self.listen_addr {
                        Some(std::net::IpAddr::V6(ip)) => format!("[{ip}]:{}", self.listen_port),
                        Some(ip) => format!("{ip}:{}", self.listen_port),
                        None => self.listen_port.to_string(),
                    },
                    upstream_port => site.upstream_port,
                    revision => revision,
                })
            })
            .map_err(|e| format!("the site template cannot be rendered: {e}"))
    }

    /// What identifies one version of a site's file, as nginx sends it back in
    /// `X-Slipway-Route`.
    pub fn revision(&self, site: &Site<'_>) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(site.deployment.as_bytes())
            .chain_update(site.host.as_bytes())
            .chain_update(self.listen_port.to_be_bytes())
            .chain_update(site.upstream_port.to_be_bytes())
            .finalize();
        digest[..6].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Writes the deployment's virtual host and reloads nginx. When `nginx -t` refuses the
    /// result, the previous file (or none) is put back and nginx is left as it was.
    pub async fn apply(&self, site: &Site<'_>) -> Result<(), String> {
        let _one_at_a_time = self.changes.lock().await;
        let path = self.site_path(site.deployment);
        let previous = tokio::fs::read_to_string(&path).await.ok();
        let same = |a: &str, b: &str| {
            let stable = |t: &str| {
                t.lines()
                    .filter(|l| !l.contains(ROUTE_HEADER))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            stable(a) == stable(b)
        };
        // Each write gets a revision of its own: seeing it proves nginx loaded this write, not
        // an older copy of the same site that its workers still serve.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let revision = format!("{}-{nanos:x}", self.revision(site));
        let text = self.render_with(site, &revision)?;
        if let Some(old) = previous.as_deref().filter(|old| same(old, &text)) {
            let current = written_revision(old);
            return self.wait_for_route(site.host, current.as_deref()).await;
        }
        let previous = previous.map(String::into_bytes);
        // Not `*.conf` until renamed, so nginx never includes a half-written file.
        let temp = path.with_extension("tmp");
        tokio::fs::write(&temp, &text)
            .await
            .map_err(|e| format!("{} cannot be written: {e}", temp.display()))?;
        tokio::fs::rename(&temp, &path)
            .await
            .map_err(|e| format!("{} cannot be written: {e}", path.display()))?;
        let restore = async |problem: String| -> String {
            let restored = match &previous {
                Some(old) => tokio::fs::write(&path, old).await,
                None => tokio::fs::remove_file(&path).await,
            };
            match restored {
                Ok(()) => problem,
                Err(e) => format!("{problem}; and restoring {} failed: {e}", path.display()),
            }
        };
        if let Err(problem) = self.test().await {
            return Err(restore(problem).await);
        }
        let started = std::time::Instant::now();
        let served = match self.reload().await {
            Ok(()) => self.wait_for_route(site.host, Some(&revision)).await,
            Err(problem) => Err(problem),
        };
        if let Err(problem) = served {
            // A file nginx may load later must not point where nothing will be: put the
            // previous one back (a release that failed here is removed, the old one stays).
            let problem = restore(problem).await;
            let _ = self.reload().await;
            return Err(problem);
        }
        metrics::histogram!("route_switch_seconds").record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Removes the deployment's virtual host, if there is one, and reloads nginx.
    pub async fn remove(&self, deployment: uuid::Uuid) -> Result<(), String> {
        let _one_at_a_time = self.changes.lock().await;
        let path = self.site_path(deployment);
        let host = tokio::fs::read_to_string(&path)
            .await
            .ok()
            .and_then(|text| {
                text.lines().find_map(|l| {
                    l.trim()
                        .strip_prefix("server_name ")
                        .map(|h| h.trim_end_matches(';').trim().to_owned())
                })
            });
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                self.reload().await?;
                match host {
                    Some(host) => self.wait_for_route(&host, None).await,
                    None => Ok(()),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("the virtual host cannot be removed: {e}")),
        }
    }

    /// Deployments that have a virtual host file.
    pub async fn sites(&self) -> Vec<uuid::Uuid> {
        let mut out = Vec::new();
        if let Ok(mut entries) = tokio::fs::read_dir(&self.sites_dir).await {
            while let Ok(Some(entry)) = entries.next_entry().await {
                if let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("slipway-"))
                    .and_then(|n| n.strip_suffix(".conf"))
                    .and_then(|n| uuid::Uuid::parse_str(n).ok())
                {
                    out.push(id);
                }
            }
        }
        out
    }

    /// A reload returns before nginx has loaded the new files: waits (at most
    /// `route_timeout`) until requests for `host` carry `revision` (`None`: no route).
    pub async fn wait_for_route(&self, host: &str, revision: Option<&str>) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + self.route_timeout;
        let mut next_reload = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
        // Old workers may still accept a connection or two after the first new one answers:
        // several answers in a row must agree.
        let mut agreeing = 0;
        loop {
            let seen = self.route_revision(host).await;
            if seen.as_deref() == revision {
                agreeing += 1;
                if agreeing >= ROUTE_CONFIRMATIONS {
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
            agreeing = 0;
            // A reload signal that arrives while nginx is still handling the previous one can
            // be folded into it (which may have read the files before this change): repeat it.
            if tokio::time::Instant::now() >= next_reload {
                let _ = self.reload().await;
                next_reload = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "nginx on port {} did not serve the new configuration for {host} within {}s",
                    self.listen_port,
                    self.route_timeout.as_secs()
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The `X-Slipway-Route` nginx answers with for `host`, if any.
    async fn route_revision(&self, host: &str) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let attempt = async {
            let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.listen_port))
                .await
                .ok()?;
            let request = format!(
                "HEAD / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: slipway-route-check\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.ok()?;
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                let n = stream.read(&mut buf).await.ok()?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&head).into_owned();
            Some(text)
        };
        let text = tokio::time::timeout(std::time::Duration::from_secs(2), attempt)
            .await
            .ok()
            .flatten()?;
        text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("x-slipway-route")
                .then(|| value.trim().to_owned())
        })
    }

    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.bin);
        if let Some(conf) = &self.conf {
            cmd.arg("-c").arg(conf);
        }
        cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
        cmd
    }

    /// `nginx -t`: the error is nginx's own first complaint.
    pub async fn test(&self) -> Result<(), String> {
        let mut cmd = self.command();
        cmd.arg("-t").arg("-q");
        run(cmd, "nginx -t").await
    }

    pub async fn reload(&self) -> Result<(), String> {
        let cmd = match &self.reload_cmd {
            Some(line) => {
                let mut cmd = tokio::process::Command::new("sh");
                cmd.arg("-c").arg(line).kill_on_drop(true);
                cmd
            }
            None => {
                let mut cmd = self.command();
                cmd.args(["-s", "reload"]);
                cmd
            }
        };
        let outcome = run(cmd, "reloading nginx").await;
        let result = if outcome.is_ok() { "ok" } else { "failed" };
        metrics::counter!("nginx_reloads_total", "result" => result).increment(1);
        outcome
    }
}

async fn run(mut cmd: tokio::process::Command, what: &str) -> Result<(), String> {
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), cmd.output())
        .await
        .map_err(|_| format!("{what} took longer than 30 seconds"))?
        .map_err(|e| format!("{what} could not run: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("[emerg]") || l.contains("[alert]") || l.contains("[error]"))
        .or_else(|| stderr.lines().next())
        .unwrap_or("no message");
    Err(format!("{what} failed: {}", line.trim()))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        // Debian puts nginx in /usr/sbin, which a non-root PATH often lacks.
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}
