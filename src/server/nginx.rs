//! nginx: where its binary is, where Slipway writes virtual hosts, and whether it is serving.

use std::{
    io,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use super::config::{Config, ConfigError};

#[derive(Debug, Clone)]
pub struct Nginx {
    pub bin: PathBuf,
    pub sites_dir: PathBuf,
    pub listen_port: u16,
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
