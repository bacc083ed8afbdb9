//! What the pipeline asks of the Docker engine: build an image from a build context, run it
//! locked down, look at it, and remove what belongs to a deployment. Everything Slipway makes
//! carries the `slipway.instance` label, so installations (and test runs) sharing one engine
//! never touch each other's containers and images.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use bollard::{
    body_full,
    errors::Error as DockerError,
    models::{
        ContainerCreateBody, HostConfig, HostConfigLogConfig, PortBinding, RestartPolicy,
        RestartPolicyNameEnum,
    },
    query_parameters::{
        BuildImageOptionsBuilder, CreateContainerOptionsBuilder, ListContainersOptionsBuilder,
        ListImagesOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
        RemoveImageOptionsBuilder, StopContainerOptionsBuilder,
    },
    Docker,
};
use futures_util::StreamExt;
use uuid::Uuid;

use super::buildlog::BuildLog;

pub const LABEL_INSTANCE: &str = "slipway.instance";
pub const LABEL_DEPLOYMENT: &str = "slipway.deployment";
pub const LABEL_RELEASE: &str = "slipway.release";

/// The name a release's image is tagged with.
pub fn image_tag(deployment: Uuid, number: i32) -> String {
    format!("slipway/{deployment}:{number}")
}

pub fn container_name(release: Uuid) -> String {
    format!("slipway-{}", release.simple())
}

pub fn labels(instance: Uuid, deployment: Uuid, release: Uuid) -> HashMap<String, String> {
    HashMap::from([
        (LABEL_INSTANCE.to_owned(), instance.to_string()),
        (LABEL_DEPLOYMENT.to_owned(), deployment.to_string()),
        (LABEL_RELEASE.to_owned(), release.to_string()),
    ])
}

/// Whether the engine said "no such thing": removals treat it as already done.
pub fn is_not_found(e: &DockerError) -> bool {
    matches!(
        e,
        DockerError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The engine's own words, without bollard's wrapping.
pub fn message(e: &DockerError) -> String {
    match e {
        DockerError::DockerResponseServerError { message, .. } => message.clone(),
        DockerError::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

// --- build context ----------------------------------------------------------------------------

/// Where the Dockerfile sits in the context archive when it lives outside the context.
const OUTSIDE_DOCKERFILE: &str = ".slipway.Dockerfile";

/// The largest build context sent to the engine: it is held in memory while it is sent.
pub const MAX_CONTEXT_BYTES: u64 = 512 * 1024 * 1024;

pub struct Context {
    pub archive: Vec<u8>,
    /// The Dockerfile's path inside the archive.
    pub dockerfile: String,
    /// Names the Dockerfile declares with `ARG`.
    pub declared_args: HashSet<String>,
}

/// Packs `repo/<context>` as a tar archive (without `.git`), with the Dockerfile's path
/// inside it. Symbolic links are stored as links, never followed, and both paths must resolve
/// inside the repository, so a repository cannot feed the build files from elsewhere on the
/// host. A context over [`MAX_CONTEXT_BYTES`] is refused.
pub fn context_archive(repo: &Path, context: &str, dockerfile: &str) -> Result<Context, String> {
    let repo = repo
        .canonicalize()
        .map_err(|e| format!("the clone cannot be read: {e}"))?;
    let context_dir = resolve_inside(&repo, context)
        .ok_or_else(|| format!("the build context `{context}` does not exist in the repository"))?;
    if !context_dir.is_dir() {
        return Err(format!("the build context `{context}` is not a directory"));
    }
    let dockerfile_path = resolve_inside(&repo, dockerfile)
        .filter(|p| p.is_file())
        .ok_or_else(|| format!("there is no Dockerfile at `{dockerfile}` in the repository"))?;

    let dockerfile_text = std::fs::read_to_string(&dockerfile_path)
        .map_err(|e| format!("the Dockerfile cannot be read: {e}"))?;
    let mut archive = tar::Builder::new(Vec::new());
    archive.follow_symlinks(false);
    let mut budget = MAX_CONTEXT_BYTES;
    append_tree(&mut archive, &context_dir, Path::new(""), &mut budget).map_err(|e| {
        if e.kind() == std::io::ErrorKind::FileTooLarge {
            format!(
                "the build context is over {} MiB; point `context` at a smaller directory",
                MAX_CONTEXT_BYTES / 1024 / 1024
            )
        } else {
            format!("the build context cannot be packed: {e}")
        }
    })?;
    let in_archive = match dockerfile_path.strip_prefix(&context_dir) {
        Ok(relative) => relative.to_string_lossy().into_owned(),
        Err(_) => {
            archive
                .append_path_with_name(&dockerfile_path, OUTSIDE_DOCKERFILE)
                .map_err(|e| format!("the Dockerfile cannot be packed: {e}"))?;
            OUTSIDE_DOCKERFILE.to_owned()
        }
    };
    let bytes = archive
        .into_inner()
        .map_err(|e| format!("the build context cannot be packed: {e}"))?;
    Ok(Context {
        archive: bytes,
        dockerfile: in_archive,
        declared_args: declared_args(&dockerfile_text),
    })
}

/// `ARG NAME` / `ARG NAME=default` lines. Only these get env values as build arguments: a
/// value the Dockerfile does not ask for never reaches the image's history.
pub fn declared_args(dockerfile: &str) -> HashSet<String> {
    dockerfile
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if !words.next()?.eq_ignore_ascii_case("ARG") {
                return None;
            }
            let arg = words.next()?;
            Some(arg.split('=').next().unwrap_or(arg).to_owned())
        })
        .collect()
}

fn resolve_inside(repo: &Path, relative: &str) -> Option<PathBuf> {
    let path = repo.join(relative).canonicalize().ok()?;
    path.starts_with(repo).then_some(path)
}

fn append_tree(
    archive: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    prefix: &Path,
    budget: &mut u64,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let path = entry.path();
        let in_archive = prefix.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            archive.append_dir(&in_archive, &path)?;
            append_tree(archive, &path, &in_archive, budget)?;
        } else if kind.is_file() || kind.is_symlink() {
            let size = entry.metadata()?.len() + 512;
            *budget = budget
                .checked_sub(size)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::FileTooLarge))?;
            archive.append_path_with_name(&path, &in_archive)?;
        }
    }
    Ok(())
}

// --- build ------------------------------------------------------------------------------------

pub struct BuildSpec<'a> {
    pub context: Vec<u8>,
    pub dockerfile: &'a str,
    pub tag: &'a str,
    pub labels: HashMap<String, String>,
    pub build_args: HashMap<String, String>,
    pub memory_mb: u32,
    pub cpus: f64,
    /// Build every step again instead of reusing cached layers.
    pub no_cache: bool,
}

/// Builds the image, writing each output line to `log`. The error is the engine's
/// message (the failing step's output is already in the log).
pub async fn build(docker: &Docker, spec: BuildSpec<'_>, log: &mut BuildLog) -> Result<(), String> {
    let memory = i32::try_from(u64::from(spec.memory_mb) * 1024 * 1024).unwrap_or(i32::MAX);
    let options = BuildImageOptionsBuilder::new()
        .dockerfile(spec.dockerfile)
        .t(spec.tag)
        .nocache(spec.no_cache)
        .rm(true)
        .forcerm(true)
        .memory(memory)
        .memswap(memory)
        .cpuperiod(100_000)
        .cpuquota((spec.cpus * 100_000.0).round() as i32)
        .labels(&spec.labels)
        .buildargs(&spec.build_args)
        .build();
    let mut stream = docker.build_image(options, None, Some(body_full(spec.context.into())));
    // The engine may cut a line across two messages; a line is logged (and redacted) whole.
    let mut partial = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream.as_deref() {
                    partial.push_str(text);
                    while let Some(end) = partial.find('\n') {
                        let line: String = partial.drain(..=end).collect();
                        let line = line.trim_end_matches(['\n', '\r']);
                        if !line.trim().is_empty() {
                            log.line("stdout", line).await;
                        }
                    }
                }
                if let Some(status) = info.status.as_deref() {
                    log.line("stdout", status).await;
                }
                if let Some(detail) = info.error_detail {
                    let message = detail.message.unwrap_or_else(|| "the build failed".into());
                    log.line("stderr", &message).await;
                    return Err(message);
                }
            }
            Err(e) => {
                let message = message(&e);
                log.line("stderr", &message).await;
                return Err(message);
            }
        }
    }
    if !partial.trim().is_empty() {
        log.line("stdout", partial.trim_end()).await;
    }
    Ok(())
}

/// The lowest TCP port the image declares with `EXPOSE`.
pub async fn exposed_port(docker: &Docker, image: &str) -> Result<Option<u16>, DockerError> {
    let inspect = docker.inspect_image(image).await?;
    Ok(inspect
        .config
        .and_then(|c| c.exposed_ports)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            let (port, proto) = p.split_once('/').unwrap_or((p, "tcp"));
            (proto == "tcp").then(|| port.parse::<u16>().ok()).flatten()
        })
        .min())
}

// --- containers -------------------------------------------------------------------------------

pub struct RunSpec<'a> {
    pub name: &'a str,
    pub image: &'a str,
    pub env: Vec<String>,
    pub labels: HashMap<String, String>,
    pub container_port: u16,
    pub host_port: u16,
    pub memory_mb: u32,
    pub cpus: f64,
}

/// Creates and starts the container: published on 127.0.0.1 only, restarted unless stopped,
/// capped in memory, CPU and processes, never privileged, no new privileges, no Docker socket
/// or any host path mounted, logs rotated.
pub async fn run(docker: &Docker, spec: RunSpec<'_>) -> Result<String, DockerError> {
    let port_key = format!("{}/tcp", spec.container_port);
    let memory = i64::from(spec.memory_mb) * 1024 * 1024;
    let body = ContainerCreateBody {
        image: Some(spec.image.to_owned()),
        env: Some(spec.env),
        labels: Some(spec.labels),
        exposed_ports: Some(vec![port_key.clone()]),
        host_config: Some(HostConfig {
            port_bindings: Some(HashMap::from([(
                port_key,
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(spec.host_port.to_string()),
                }]),
            )])),
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
                maximum_retry_count: None,
            }),
            memory: Some(memory),
            memory_swap: Some(memory),
            nano_cpus: Some((spec.cpus * 1e9).round() as i64),
            pids_limit: Some(1024),
            privileged: Some(false),
            security_opt: Some(vec!["no-new-privileges:true".into()]),
            binds: Some(Vec::new()),
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(HashMap::from([
                    ("max-size".to_owned(), "10m".to_owned()),
                    ("max-file".to_owned(), "3".to_owned()),
                ])),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(spec.name).build()),
            body,
        )
        .await?;
    if let Err(e) = docker.start_container(&created.id, None).await {
        let _ = remove_container(docker, &created.id).await;
        return Err(e);
    }
    Ok(created.id)
}

pub struct Observed {
    pub running: bool,
    pub restarting: bool,
}

/// The container's address on its network, which the host reaches directly.
pub fn container_ip(inspect: &bollard::models::ContainerInspectResponse) -> Option<String> {
    inspect
        .network_settings
        .as_ref()?
        .networks
        .as_ref()?
        .values()
        .filter_map(|n| n.ip_address.clone())
        .find(|ip| !ip.is_empty())
}

/// `None` when the container does not exist.
pub async fn observe(docker: &Docker, id: &str) -> Result<Option<Observed>, DockerError> {
    let inspect = match docker.inspect_container(id, None).await {
        Ok(inspect) => inspect,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let state = inspect.state.unwrap_or_default();
    Ok(Some(Observed {
        running: state.running.unwrap_or(false),
        restarting: state.restarting.unwrap_or(false),
    }))
}

pub async fn start(docker: &Docker, id: &str) -> Result<(), DockerError> {
    docker.start_container(id, None).await
}

/// Stops with a grace period; a container that is gone or already stopped is fine.
pub async fn stop(docker: &Docker, id: &str) -> Result<(), DockerError> {
    match docker
        .stop_container(id, Some(StopContainerOptionsBuilder::new().t(10).build()))
        .await
    {
        Err(e) if is_not_found(&e) => Ok(()),
        Err(DockerError::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        other => other,
    }
}

pub async fn restart(docker: &Docker, id: &str) -> Result<(), DockerError> {
    docker.restart_container(id, None).await
}

/// Removes the container and its anonymous volumes, running or not; gone already is fine.
pub async fn remove_container(docker: &Docker, id: &str) -> Result<(), DockerError> {
    match docker
        .remove_container(
            id,
            Some(
                RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await
    {
        Err(e) if is_not_found(&e) => Ok(()),
        // "removal already in progress": another remover got there first.
        Err(DockerError::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(()),
        other => other,
    }
}

pub async fn remove_image(docker: &Docker, image: &str) -> Result<(), DockerError> {
    match docker
        .remove_image(
            image,
            Some(RemoveImageOptionsBuilder::new().force(true).build()),
            None,
        )
        .await
    {
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Ok(()),
    }
}

pub struct Labelled {
    pub id: String,
    pub labels: HashMap<String, String>,
}

fn label_filter(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect(),
    )])
}

/// Containers, running or not, carrying every label in `pairs`.
pub async fn containers(
    docker: &Docker,
    pairs: &[(&str, &str)],
) -> Result<Vec<Labelled>, DockerError> {
    let filters = label_filter(pairs);
    let list = docker
        .list_containers(Some(
            ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await?;
    Ok(list
        .into_iter()
        .filter_map(|c| {
            Some(Labelled {
                id: c.id?,
                labels: c.labels.unwrap_or_default(),
            })
        })
        .collect())
}

/// Images carrying every label in `pairs`, with their tags.
pub async fn images(
    docker: &Docker,
    pairs: &[(&str, &str)],
) -> Result<Vec<(Labelled, Vec<String>)>, DockerError> {
    let filters = label_filter(pairs);
    let list = docker
        .list_images(Some(
            ListImagesOptionsBuilder::new().filters(&filters).build(),
        ))
        .await?;
    Ok(list
        .into_iter()
        .map(|i| {
            (
                Labelled {
                    id: i.id,
                    labels: i.labels,
                },
                i.repo_tags,
            )
        })
        .collect())
}

/// The container's last `lines` lines of output, for a failure message.
pub async fn tail(docker: &Docker, id: &str, lines: usize) -> Vec<(String, String)> {
    let options = LogsOptionsBuilder::new()
        .stdout(true)
        .stderr(true)
        .tail(&lines.to_string())
        .build();
    let mut stream = docker.logs(id, Some(options));
    let mut out = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let stream_name = match &chunk {
            bollard::container::LogOutput::StdErr { .. } => "stderr",
            _ => "stdout",
        };
        let text = String::from_utf8_lossy(&chunk.into_bytes()).into_owned();
        for line in text.lines() {
            out.push((stream_name.to_owned(), line.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_declared_args_are_build_arguments() {
        let args =
            declared_args("FROM x\nARG GREETING=hi\n  arg token\nRUN echo $ARGS\nENV ARG=1\n");
        assert_eq!(
            args,
            HashSet::from(["GREETING".to_owned(), "token".to_owned()])
        );
    }
}
