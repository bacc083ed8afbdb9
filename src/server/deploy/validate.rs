//! Checks on what a user asks to deploy. Each function returns the clean value or the
//! message shown next to the field; [`Fields`] gathers them so one response names every
//! problem at once.

use std::collections::BTreeMap;

use crate::{error::AppError, server::config::DeploySettings};

pub const MAX_ENV_PAIRS: usize = 200;
pub const MAX_ENV_VALUE_BYTES: usize = 32 * 1024;

/// Names that point at infrastructure or that people expect to be Slipway's own.
const RESERVED: &[&str] = &[
    "www",
    "api",
    "admin",
    "administrator",
    "mail",
    "email",
    "webmail",
    "smtp",
    "imap",
    "pop",
    "pop3",
    "ftp",
    "sftp",
    "ns",
    "ns1",
    "ns2",
    "ns3",
    "mx",
    "dns",
    "localhost",
    "slipway",
    "dashboard",
    "console",
    "panel",
    "status",
    "auth",
    "login",
    "sso",
    "oauth",
    "static",
    "assets",
    "cdn",
    "autoconfig",
    "autodiscover",
    "wpad",
    "git",
    "registry",
    "docker",
];

/// Field → message, in a stable order.
#[derive(Default)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    /// Keeps the value when it is valid, records the message when not.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.entry(field.to_owned()).or_insert(message);
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.entry(field.to_owned()).or_insert(message.into());
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let message = if self.0.len() == 1 {
            let (field, problem) = self.0.iter().next().expect("one");
            format!("{field}: {problem}")
        } else {
            format!(
                "Some fields need fixing: {}.",
                self.0.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        Err(AppError::Validation {
            message,
            fields: self.0,
        })
    }
}

fn printable(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

pub fn name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    if !printable(name) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_owned())
}

/// A clean repository URL. The message never repeats the URL: it may hold a password.
pub fn repo_url(raw: &str, settings: &DeploySettings) -> Result<String, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("must not be empty".into());
    }
    if url.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    if url.starts_with('-') || !printable(url) || url.chars().any(char::is_whitespace) {
        return Err("is not a repository URL".into());
    }
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        if !settings.git_allow_http {
            return Err("must start with https:// (plain http:// is not allowed here)".into());
        }
        rest
    } else {
        return Err(if settings.git_allow_http {
            "must start with https:// or http://".into()
        } else {
            "must start with https://".into()
        });
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') {
        return Err(
            "must not contain a user name or password; give a token in access_token instead".into(),
        );
    }
    if url.contains(['?', '#']) {
        return Err("must not have a query or fragment".into());
    }
    let authority = authority.to_ascii_lowercase();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    let port_ok = match authority
        .rsplit_once(']')
        .map_or(authority.as_str(), |(_, p)| p)
    {
        p if authority.starts_with('[') => {
            p.is_empty()
                || p.strip_prefix(':')
                    .is_some_and(|n| n.parse::<u16>().is_ok_and(|v| v > 0))
        }
        a => a
            .split_once(':')
            .is_none_or(|(_, port)| port.parse::<u16>().is_ok_and(|p| p > 0)),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !host.starts_with(['-', '.']);
    if !host_ok || !port_ok {
        return Err("does not name a valid host".into());
    }
    let allowed = settings.git_allowed_hosts.iter().any(|entry| {
        entry == "*" || *entry == authority || (*entry == host && !entry.contains(':'))
    });
    if !allowed {
        return Err(format!(
            "is on a host that is not allowed; allowed hosts: {}",
            settings.git_allowed_hosts.join(", ")
        ));
    }
    let path = path.trim_end_matches('/');
    if path.is_empty() {
        return Err("must name a repository (a path after the host)".into());
    }
    if path.split('/').any(|seg| seg == "..") {
        return Err("must not contain `..`".into());
    }
    Ok(format!(
        "{}://{authority}{path}",
        if url.starts_with("https") {
            "https"
        } else {
            "http"
        }
    ))
}

/// A branch name by Git's ref rules (`git check-ref-format --branch`).
pub fn branch(raw: &str) -> Result<String, String> {
    let b = raw.trim();
    let bad = b.is_empty()
        || b.len() > 255
        || b.starts_with(['-', '/', '.'])
        || b.ends_with(['/', '.'])
        || b.ends_with(".lock")
        || b == "@"
        || b.contains("..")
        || b.contains("//")
        || b.contains("@{")
        || b.contains("/.")
        || b.chars().any(|c| {
            c.is_control()
                || c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
        });
    if bad {
        return Err("is not a valid branch name".into());
    }
    Ok(b.to_owned())
}

/// Why a subdomain cannot be had, before asking the database whether it is taken.
pub enum SubdomainProblem {
    Invalid(String),
    Reserved,
}

pub fn subdomain(raw: &str, settings: &DeploySettings) -> Result<String, SubdomainProblem> {
    let s = raw.trim();
    if s.is_empty() || s.len() > 63 {
        return Err(SubdomainProblem::Invalid(
            "must be 1 to 63 characters".into(),
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(SubdomainProblem::Invalid(
            "may contain only lowercase letters, digits and hyphens".into(),
        ));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(SubdomainProblem::Invalid(
            "must not start or end with a hyphen".into(),
        ));
    }
    // `xn--` labels are punycode; one that does not decode would break DNS and TLS tools.
    if s.len() > 3 && &s[2..4] == "--" && !s.starts_with("xn--") {
        return Err(SubdomainProblem::Invalid(
            "must not have hyphens in the third and fourth places".into(),
        ));
    }
    if RESERVED.contains(&s) || settings.reserved_subdomains.iter().any(|r| r == s) {
        return Err(SubdomainProblem::Reserved);
    }
    Ok(s.to_owned())
}

impl SubdomainProblem {
    pub fn message(&self) -> String {
        match self {
            Self::Invalid(why) => why.clone(),
            Self::Reserved => "is reserved; choose another".into(),
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "invalid",
            Self::Reserved => "reserved",
        }
    }
}

pub fn env_key(key: &str) -> Result<(), String> {
    let mut chars = key.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || key.len() > 256 {
        return Err(format!(
            "`{}` is not a valid name: use letters, digits and _, not starting with a digit",
            key.chars().take(64).collect::<String>()
        ));
    }
    Ok(())
}

pub fn env_value(key: &str, value: &str) -> Result<(), String> {
    if value.len() > MAX_ENV_VALUE_BYTES {
        return Err(format!("the value of {key} is over 32 KiB"));
    }
    if value.contains('\0') {
        return Err(format!("the value of {key} contains a NUL character"));
    }
    Ok(())
}

/// Checks every pair, naming the field `env.KEY` so a form can point at the row.
pub fn env<'a>(
    pairs: impl IntoIterator<Item = (&'a String, Option<&'a String>)>,
    total_after: usize,
    fields: &mut Fields,
) {
    if total_after > MAX_ENV_PAIRS {
        fields.add("env", format!("at most {MAX_ENV_PAIRS} variables"));
    }
    for (key, value) in pairs {
        if let Err(message) = env_key(key) {
            fields.add(&format!("env.{key}"), message);
            continue;
        }
        if let Some(value) = value {
            if let Err(message) = env_value(key, value) {
                fields.add(&format!("env.{key}"), message);
            }
        }
    }
}

/// A path inside the repository, `/`-separated and relative, without `..`.
pub fn repo_path(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if p.is_empty() {
        return Err("must not be empty".into());
    }
    if p.len() > 255 || !printable(p) || p.contains('\\') {
        return Err("is not a valid path".into());
    }
    if p.starts_with('/') {
        return Err("must be relative to the repository root".into());
    }
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.contains(&"..") {
        return Err("must stay inside the repository (no `..`)".into());
    }
    if parts.is_empty() {
        return Ok(".".into());
    }
    Ok(parts.join("/"))
}

pub fn container_port(raw: u32) -> Result<u16, String> {
    match u16::try_from(raw) {
        Ok(port) if port > 0 => Ok(port),
        _ => Err("must be a port between 1 and 65535".into()),
    }
}

pub fn health_path(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    if !p.starts_with('/') {
        return Err("must start with /".into());
    }
    if p.len() > 512 || !p.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be a URL path without spaces (at most 512 characters)".into());
    }
    Ok(p.to_owned())
}

pub fn memory_mb(raw: u32, settings: &DeploySettings) -> Result<u32, String> {
    if raw < 16 || raw > settings.max_memory_mb {
        return Err(format!(
            "must be between 16 and {} MiB",
            settings.max_memory_mb
        ));
    }
    Ok(raw)
}

/// CPUs as thousandths, the unit stored.
pub fn cpus(raw: f64, settings: &DeploySettings) -> Result<i32, String> {
    if !raw.is_finite() || raw < 0.05 || raw > settings.max_cpus {
        return Err(format!("must be between 0.05 and {}", settings.max_cpus));
    }
    Ok((raw * 1000.0).round() as i32)
}

pub fn access_token(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    if t.len() > 1024 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("is not a valid token (printable characters, at most 1024)".into());
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings(http: bool) -> DeploySettings {
        DeploySettings {
            git_allowed_hosts: vec![
                "github.com".into(),
                "127.0.0.1".into(),
                "git.example:8443".into(),
            ],
            git_allow_http: http,
            git_ls_remote_timeout: Duration::from_secs(1),
            git_clone_timeout: Duration::from_secs(1),
            build_concurrency: 1,
            build_memory_mb: 512,
            build_cpus: 1.0,
            build_timeout: Duration::from_secs(1),
            health_timeout: Duration::from_secs(1),
            default_memory_mb: 256,
            default_cpus: 1.0,
            max_memory_mb: 4096,
            max_cpus: 2.0,
            reserved_subdomains: vec!["billing".into()],
            reconcile_interval: Duration::from_secs(60),
            keep_releases: 3,
            public_scheme: "http".into(),
            drain: Duration::from_secs(0),
        }
    }

    #[test]
    fn repo_urls_are_https_on_allowed_hosts_without_credentials() {
        let s = settings(false);
        assert_eq!(
            repo_url(" https://github.com/acme/app.git/ ", &s).unwrap(),
            "https://github.com/acme/app.git"
        );
        assert_eq!(
            repo_url("https://GitHub.com/acme/app", &s).unwrap(),
            "https://github.com/acme/app"
        );
        for bad in [
            "http://github.com/acme/app",
            "file:///etc/passwd",
            "ssh://git@github.com/acme/app",
            "git@github.com:acme/app.git",
            "ext::sh -c touch% /tmp/pwned",
            "-uhttps://github.com/x",
            "--upload-pack=touch /tmp/x",
            "https://evil.com/acme/app",
            "https://github.com.evil.com/acme/app",
            "https://github.com",
            "https://github.com/",
            "https://github.com/acme/app?x=1",
            "https://github.com/a b",
            "https://github.com/../../x",
            "https://[::1]é/x",
            "https://[::1]x80/x",
            "",
        ] {
            assert!(repo_url(bad, &s).is_err(), "{bad} should be refused");
        }
        let err = repo_url("https://alice:hunter2@github.com/acme/app", &s).unwrap_err();
        assert!(
            !err.contains("hunter2") && err.contains("access_token"),
            "{err}"
        );
        // Host entries without a port allow any port; entries with one allow only that.
        let http = settings(true);
        assert!(repo_url("http://127.0.0.1:9000/repo.git", &http).is_ok());
        assert!(repo_url("https://git.example:8443/r", &http).is_ok());
        assert!(repo_url("https://git.example/r", &http).is_err());
        assert!(repo_url("https://git.example:9443/r", &http).is_err());
    }

    #[test]
    fn branches_follow_git_ref_rules() {
        for good in ["main", "feature/x", "release-1.2", "v1"] {
            assert_eq!(branch(good).unwrap(), good);
        }
        for bad in [
            "", "-x", "a..b", "a b", "x.lock", "a:b", "a~1", "@", "a//b", "/a", "a/", "x@{1}",
        ] {
            assert!(branch(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subdomains_are_dns_labels_not_reserved() {
        let s = settings(false);
        assert_eq!(subdomain("my-app2", &s).ok(), Some("my-app2".into()));
        assert_eq!(subdomain(&"a".repeat(63), &s).ok(), Some("a".repeat(63)));
        for bad in [
            "",
            "-a",
            "a-",
            "My-App",
            "a_b",
            "a.b",
            "ab--c",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(subdomain(bad, &s), Err(SubdomainProblem::Invalid(_))),
                "{bad}"
            );
        }
        for reserved in ["www", "api", "admin", "mail", "billing"] {
            assert!(
                matches!(subdomain(reserved, &s), Err(SubdomainProblem::Reserved)),
                "{reserved}"
            );
        }
    }

    #[test]
    fn env_keys_values_and_count_are_limited() {
        assert!(env_key("DATABASE_URL").is_ok());
        assert!(env_key("_x1").is_ok());
        for bad in ["1X", "A-B", "", "A B", "Ä"] {
            assert!(env_key(bad).is_err(), "{bad}");
        }
        assert!(env_value("K", &"x".repeat(MAX_ENV_VALUE_BYTES)).is_ok());
        assert!(env_value("K", &"x".repeat(MAX_ENV_VALUE_BYTES + 1)).is_err());
        let mut fields = Fields::default();
        let (k, v) = ("1BAD".to_owned(), "v".to_owned());
        env([(&k, Some(&v))], MAX_ENV_PAIRS + 1, &mut fields);
        let Err(AppError::Validation { fields, .. }) = fields.into_result() else {
            panic!("expected a validation error")
        };
        assert!(
            fields.contains_key("env") && fields.contains_key("env.1BAD"),
            "{fields:?}"
        );
    }

    #[test]
    fn paths_stay_inside_the_repository() {
        assert_eq!(
            repo_path("./docker//Dockerfile").unwrap(),
            "docker/Dockerfile"
        );
        assert_eq!(repo_path(".").unwrap(), ".");
        assert_eq!(repo_path("./").unwrap(), ".");
        for bad in ["/etc/passwd", "../x", "a/../../b", "", "a\\b"] {
            assert!(repo_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_have_bounds() {
        let s = settings(false);
        assert!(container_port(0).is_err() && container_port(70000).is_err());
        assert_eq!(container_port(8080).unwrap(), 8080);
        assert!(health_path("healthz").is_err() && health_path("/a b").is_err());
        assert_eq!(health_path("/healthz").unwrap(), "/healthz");
        assert!(memory_mb(8, &s).is_err() && memory_mb(5000, &s).is_err());
        assert_eq!(cpus(0.5, &s).unwrap(), 500);
        assert!(cpus(f64::NAN, &s).is_err() && cpus(3.0, &s).is_err() && cpus(0.0, &s).is_err());
    }
}
