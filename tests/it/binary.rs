//! The `slipway` binary as an operator runs it: settings from the environment, exit codes,
//! graceful shutdown.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use crate::support::{
    app::create_database,
    env::{database_url_for, lookup, required},
    wait,
};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs the binary in an empty directory (no `.env` to fall back on) with exactly `vars`.
fn run_with(vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .output()
        .expect("run slipway");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn valid_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("DATABASE_URL", "postgres://slipway@127.0.0.1:1/slipway"),
        ("REDIS_URL", "redis://127.0.0.1:1/0"),
        ("SECRET_KEY", KEY),
    ]
}

fn with(var: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut vars: Vec<_> = valid_vars()
        .into_iter()
        .filter(|(k, _)| *k != var)
        .collect();
    vars.push((var, value));
    vars
}

fn assert_config_error(vars: &[(&str, &str)], var: &str) {
    let (code, stderr) = run_with(vars);
    assert_eq!(code, Some(2), "exit code for bad {var}; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line of explanation, got: {stderr}");
    assert!(lines[0].contains(var), "the line names {var}: {stderr}");
}

#[test]
fn missing_secret_key_stops_start_up_naming_it() {
    let vars: Vec<_> = valid_vars()
        .into_iter()
        .filter(|(k, _)| *k != "SECRET_KEY")
        .collect();
    assert_config_error(&vars, "SECRET_KEY");
    let (_, stderr) = run_with(&vars);
    assert!(
        stderr.contains("head -c 32 /dev/urandom | base64"),
        "says how to make one: {stderr}"
    );
}

#[test]
fn empty_secret_key_in_the_environment_beats_dotenv() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(".env"), format!("SECRET_KEY={KEY}\n")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
        .current_dir(dir.path())
        .env_clear()
        .envs(with("SECRET_KEY", ""))
        .output()
        .expect("run slipway");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SECRET_KEY: is empty"), "{stderr}");
}

#[test]
fn malformed_database_url_stops_start_up_naming_it() {
    assert_config_error(
        &with("DATABASE_URL", "mysql://root@localhost/db"),
        "DATABASE_URL",
    );
    assert_config_error(
        &with("DATABASE_URL", "postgres://u:pw@host:port/db"),
        "DATABASE_URL",
    );
}

#[test]
fn invalid_port_range_stops_start_up_naming_it() {
    assert_config_error(&with("PORT_RANGE", "4000-3000"), "PORT_RANGE");
    assert_config_error(&with("PORT_RANGE", "lots"), "PORT_RANGE");
}

#[test]
fn unreachable_database_fails_start_up_without_leaking_the_password() {
    let (code, stderr) = run_with(&[
        (
            "DATABASE_URL",
            "postgres://slipway:hunter2hunter2@127.0.0.1:1/slipway",
        ),
        ("REDIS_URL", "redis://127.0.0.1:1/0"),
        ("SECRET_KEY", KEY),
        ("NGINX_SITES_DIR", "sites"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let server_url = required("DATABASE_URL");
    let database_url = database_url_for(&server_url, &create_database(&server_url).await);
    // Logs go to a file: a pipe nobody reads while the server runs could fill up and block it.
    let log_path = dir.path().join("stdout.log");
    let log_file = std::fs::File::create(&log_path).expect("log file");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_slipway"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &database_url)
        .env("REDIS_URL", required("REDIS_URL"))
        .env("SECRET_KEY", required("SECRET_KEY"))
        .env(
            "NGINX_LISTEN_PORT",
            lookup("NGINX_LISTEN_PORT").unwrap_or_else(|| "8080".into()),
        )
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("APP_ENV", "production")
        .stdout(log_file)
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start slipway");

    let url = format!("http://127.0.0.1:{port}/health");
    wait::until("slipway to answer /health", Duration::from_secs(30), || {
        let url = url.clone();
        async move { reqwest::get(&url).await.ok().map(|_| ()) }
    })
    .await;

    let pid = child.id().expect("running").to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("slipway exits after SIGTERM")
        .expect("wait");
    assert_eq!(status.code(), Some(0), "clean exit after SIGTERM");

    let logs = std::fs::read_to_string(&log_path).expect("logs");
    // Production logs are JSON, one object per line, and never carry the database password.
    let first = logs.lines().next().expect("some log lines");
    let line: serde_json::Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("JSON log line ({e}): {first}"));
    assert!(line.get("level").is_some(), "{first}");
    assert!(logs.contains("shutdown signal received"), "{logs}");
    let password = database_url
        .split_once("://")
        .and_then(|(_, r)| r.split_once('@'))
        .and_then(|(auth, _)| auth.split_once(':'))
        .map(|(_, pw)| pw.to_owned());
    if let Some(password) = password {
        assert!(!logs.contains(&password), "password in logs");
    }
}

#[test]
fn admin_email_without_a_password_stops_start_up_naming_it() {
    assert_config_error(&with("ADMIN_EMAIL", "boss@example.com"), "ADMIN_PASSWORD");
}
