//! The `git` command, hardened: only http(s), no prompts, no hooks, no redirects to other
//! hosts, no system or user configuration, every call under a deadline. A repository token
//! travels in an environment variable as an HTTP header, never in the URL or argv, so it
//! cannot show in `ps`, in git's messages or in logs.

use std::{path::Path, process::Stdio, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use tokio::process::Command;

use crate::server::config::DeploySettings;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("the repository could not be reached: {0}")]
    Unreachable(String),
    #[error("branch `{0}` does not exist in the repository")]
    NoSuchBranch(String),
    #[error("git took longer than {0} seconds")]
    Timeout(u64),
    #[error("git could not be run: {0}")]
    Spawn(String),
    #[error("commit {commit} is not on branch `{branch}`")]
    NotOnBranch { commit: String, branch: String },
}

pub struct Git<'a> {
    settings: &'a DeploySettings,
    token: Option<&'a str>,
}

impl<'a> Git<'a> {
    pub fn new(settings: &'a DeploySettings, token: Option<&'a str>) -> Self {
        Self { settings, token }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        let http = if self.settings.git_allow_http {
            "always"
        } else {
            "never"
        };
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", "/nonexistent")
            .env("LANG", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_PROTOCOL_FROM_USER", "0")
            .args(["-c", "protocol.allow=never"])
            .args(["-c", "protocol.https.allow=always"])
            .args(["-c", &format!("protocol.http.allow={http}")])
            // A redirect could lead to a host the allow-list refuses.
            .args(["-c", "http.followRedirects=false"])
            .args(["-c", "credential.helper="])
            .args(["-c", "core.askPass="])
            .args(["-c", "core.hooksPath=/dev/null"])
            .args(["-c", "init.templateDir="])
            .args(["-c", "submodule.recurse=false"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(token) = self.token {
            let basic = STANDARD.encode(format!("x-access-token:{token}"));
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env(
                    "GIT_CONFIG_VALUE_0",
                    format!("Authorization: Basic {basic}"),
                );
        }
        cmd
    }

    async fn run(
        &self,
        mut cmd: Command,
        timeout: Duration,
    ) -> Result<std::process::Output, GitError> {
        let child = cmd.spawn().map_err(|e| GitError::Spawn(e.to_string()))?;
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(e)) => Err(GitError::Spawn(e.to_string())),
            Err(_) => Err(GitError::Timeout(timeout.as_secs())),
        }
    }

    /// Checks that the repository answers and returns the branch to build: `branch` when
    /// given and present, else the repository's default branch.
    pub async fn ls_remote(&self, url: &str, branch: Option<&str>) -> Result<String, GitError> {
        let mut cmd = self.command();
        cmd.args(["ls-remote", "--symref", "--", url, "HEAD"]);
        if let Some(branch) = branch {
            cmd.arg(format!("refs/heads/{branch}"));
        }
        let output = self.run(cmd, self.settings.git_ls_remote_timeout).await?;
        if !output.status.success() {
            return Err(GitError::Unreachable(git_message(&output.stderr)));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        if let Some(branch) = branch {
            let wanted = format!("refs/heads/{branch}");
            return if stdout
                .lines()
                .any(|l| l.split('\t').nth(1) == Some(wanted.as_str()))
            {
                Ok(branch.to_owned())
            } else {
                Err(GitError::NoSuchBranch(branch.to_owned()))
            };
        }
        stdout
            .lines()
            .find_map(|l| {
                l.strip_prefix("ref: refs/heads/")
                    .and_then(|rest| rest.strip_suffix("\tHEAD"))
            })
            .map(str::to_owned)
            .ok_or_else(|| GitError::Unreachable("it has no default branch; name a branch".into()))
    }

    /// A clone of `branch` into `dest` (which must not exist), at its head or at `commit`,
    /// which must be on the branch. Returns the commit and its subject line.
    pub async fn clone(
        &self,
        url: &str,
        branch: &str,
        dest: &Path,
        commit: Option<&str>,
    ) -> Result<(String, String), GitError> {
        let deadline = tokio::time::Instant::now() + self.settings.git_clone_timeout;
        let clone = |shallow: bool| {
            let mut cmd = self.command();
            cmd.args(["clone", "--quiet", "--single-branch", "--no-tags"]);
            if shallow {
                cmd.args(["--depth", "1"]);
            }
            cmd.args(["--branch", branch, "--", url]).arg(dest);
            cmd
        };
        let remaining = || deadline.saturating_duration_since(tokio::time::Instant::now());
        // A pinned commit needs the branch's history, to find it and check it is on the branch.
        let mut output = self.run(clone(commit.is_none()), remaining()).await?;
        // Servers on Git's "dumb" HTTP protocol cannot serve shallow clones: take it all.
        if !output.status.success()
            && String::from_utf8_lossy(&output.stderr).contains("does not support shallow")
        {
            let _ = tokio::fs::remove_dir_all(dest).await;
            output = self.run(clone(false), remaining()).await?;
        }
        if !output.status.success() {
            return Err(GitError::Unreachable(git_message(&output.stderr)));
        }
        if let Some(commit) = commit {
            let mut on_branch = self.command();
            on_branch
                .arg("-C")
                .arg(dest)
                .args(["merge-base", "--is-ancestor", commit, "HEAD"]);
            if !self.run(on_branch, remaining()).await?.status.success() {
                return Err(GitError::NotOnBranch {
                    commit: commit[..commit.len().min(12)].to_owned(),
                    branch: branch.to_owned(),
                });
            }
            let mut checkout = self.command();
            checkout
                .arg("-C")
                .arg(dest)
                .args(["checkout", "--quiet", "--detach", commit]);
            let output = self.run(checkout, remaining()).await?;
            if !output.status.success() {
                return Err(GitError::Unreachable(git_message(&output.stderr)));
            }
        }
        let mut show = self.command();
        show.arg("-C")
            .arg(dest)
            .args(["log", "-1", "--format=%H%n%s"]);
        let output = self.run(show, remaining()).await?;
        if !output.status.success() {
            return Err(GitError::Unreachable(git_message(&output.stderr)));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        let sha = lines.next().unwrap_or_default().trim().to_owned();
        let subject = lines.next().unwrap_or_default().trim().to_owned();
        Ok((sha, subject))
    }
}

/// The line of git's stderr that says what went wrong, without git's prefixes.
fn git_message(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .rev()
        .find(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or(lines.last())
        .copied()
        .unwrap_or("git failed without a message");
    let line = line
        .trim_start_matches("fatal:")
        .trim_start_matches("error:")
        .trim();
    line.chars().take(300).collect()
}
