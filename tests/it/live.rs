//! Live streams: build logs that resume exactly after the last line seen, many viewers of one
//! build, runtime logs from Docker, and deployment events crossing from one Slipway process to
//! another through Redis.

use std::{collections::BTreeSet, time::Duration};

use serde_json::{json, Value};

use crate::support::{
    app::{Browser, TestApp},
    fixtures::{base_image, create_deployment, files, settled, GitServer},
    sse::{SseEvent, SseStream},
};

const EVENT_DEADLINE: Duration = Duration::from_secs(60);

/// An app whose build writes 400 numbered lines over a few seconds, and which prints a tick
/// every second once running.
fn chatty_app(base: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "Dockerfile",
            format!(
                "FROM {base}\n\
                 RUN i=0; while [ $i -lt 400 ]; do echo \"build line $i\"; i=$((i+1)); \
                     if [ $((i % 100)) -eq 0 ]; then sleep 1; fi; done\n\
                 RUN mkdir -p /www && echo chatty > /www/index.html\n\
                 COPY run.sh /run.sh\n\
                 EXPOSE 8080\n\
                 CMD [\"/bin/sh\", \"/run.sh\"]\n"
            ),
        ),
        (
            "run.sh",
            r#"(i=0; while true; do printf 'tick %s \033[32mgreen\033[0m\n' "$i"; i=$((i+1)); sleep 1; done) &
exec /bin/httpd -f -p "${PORT:-8080}" -h /www
"#
            .to_owned(),
        ),
    ]
}

async fn start_chatty(admin: &Browser, git: &GitServer, subdomain: &str) -> String {
    let url = git.commit(subdomain, &files(&chatty_app(base_image().await)));
    let created =
        create_deployment(admin, json!({ "repo_url": url, "subdomain": subdomain })).await;
    created["id"].as_str().unwrap().to_owned()
}

/// Every stored line's `seq` of the deployment's newest release.
async fn stored_seqs(admin: &Browser, release: &str) -> Vec<i32> {
    let (status, text) = admin
        .get_text(&format!("/api/v1/releases/{release}/log"))
        .await;
    assert_eq!(status, 200);
    text.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_i64()
                .unwrap() as i32
        })
        .collect()
}

/// Reads log events until `end` (or `stop_after` lines); returns the lines' seqs in order.
async fn read_lines(stream: &mut SseStream, stop_after: Option<usize>) -> (Vec<i32>, bool) {
    let mut seqs = Vec::new();
    while let Some(event) = stream.next(EVENT_DEADLINE).await {
        match event.event.as_str() {
            "message" => {
                let line: Value = serde_json::from_str(&event.data).unwrap();
                let seq = line["seq"].as_i64().unwrap() as i32;
                assert_eq!(event.id.as_deref(), Some(seq.to_string().as_str()));
                seqs.push(seq);
                if stop_after.is_some_and(|n| seqs.len() >= n) {
                    return (seqs, false);
                }
            }
            "end" => return (seqs, true),
            other => panic!("unexpected event {other}: {event:?}"),
        }
    }
    (seqs, false)
}

#[tokio::test]
async fn a_build_log_stream_resumes_after_a_disconnect_with_every_line_exactly_once() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let id = start_chatty(&admin, &git, "resumed").await;
    let path = format!("/api/v1/deployments/{id}/logs?kind=build");

    // Read part of the log while the build runs, then drop the connection.
    let mut first = SseStream::open(&admin, &path, None).await;
    let (seen, ended) = read_lines(&mut first, Some(40)).await;
    assert!(!ended, "the build was still running");
    drop(first);
    let last = seen.last().unwrap().to_string();

    // Reconnect as a browser does, naming the last line seen.
    let mut second = SseStream::open(&admin, &path, Some(&last)).await;
    let (rest, ended) = read_lines(&mut second, None).await;
    assert!(ended, "the stream ends with the release");

    let all: Vec<i32> = seen.iter().chain(&rest).copied().collect();
    let d = settled(&admin, &id).await;
    let stored = stored_seqs(&admin, d["latest_release"]["id"].as_str().unwrap()).await;
    assert_eq!(all, stored, "every line once, in order");
    assert!(stored.len() > 400, "{} lines", stored.len());
    assert_eq!(all, (1..=stored.len() as i32).collect::<Vec<_>>());

    // Nothing is left behind for viewers that went away.
    drop(second);
    crate::support::wait::until("the viewers to be forgotten", EVENT_DEADLINE, || async {
        (app.state.live.viewers() == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn two_hundred_viewers_of_one_build_all_receive_every_line() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let id = start_chatty(&admin, &git, "crowded").await;
    let path = format!("/api/v1/deployments/{id}/logs?kind=build");
    let mut viewers = Vec::new();
    for _ in 0..200 {
        viewers.push(SseStream::open(&admin, &path, None).await);
    }
    let results = futures_util::future::join_all(
        viewers
            .iter_mut()
            .map(|stream| async move { read_lines(stream, None).await }),
    )
    .await;
    let d = settled(&admin, &id).await;
    let stored = stored_seqs(&admin, d["latest_release"]["id"].as_str().unwrap()).await;
    for (seqs, ended) in results {
        assert!(ended);
        assert_eq!(seqs, stored);
    }
}

#[tokio::test]
async fn a_runtime_log_streams_the_containers_output_with_colours_and_resumes() {
    let app = TestApp::new().await;
    let git = GitServer::start().await;
    let admin = app.with_admin().await;
    let id = start_chatty(&admin, &git, "ticking").await;
    let d = settled(&admin, &id).await;
    assert_eq!(d["state"], "running", "{d}");
    let path = format!("/api/v1/deployments/{id}/logs?kind=runtime");
    let mut stream = SseStream::open(&admin, &path, None).await;
    let mut ticks: Vec<SseEvent> = Vec::new();
    while ticks.len() < 3 {
        let event = stream
            .next(EVENT_DEADLINE)
            .await
            .expect("the stream stays open");
        assert_eq!(event.event, "message", "{event:?}");
        let line: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(event.id.as_deref(), line["ts"].as_str());
        let text = line["line"].as_str().unwrap();
        assert!(text.starts_with("tick "), "{text:?}");
        assert!(
            text.contains("\u{1b}[32mgreen\u{1b}[0m"),
            "ANSI colours kept: {text:?}"
        );
        ticks.push(event);
    }
    drop(stream);

    // Resuming after the second tick starts at the third.
    let mut resumed = SseStream::open(&admin, &path, ticks[1].id.as_deref()).await;
    let next = resumed.next(EVENT_DEADLINE).await.unwrap();
    assert_eq!(next.id, ticks[2].id, "{next:?}");

    // Someone else's deployment is not found; a bad kind names the field.
    let stranger = app.browser();
    let (status, _) = SseStream::try_open(&stranger, &path, None).await;
    assert_eq!(status, 401);
    let (status, body) = SseStream::try_open(
        &admin,
        &format!("/api/v1/deployments/{id}/logs?kind=console"),
        None,
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.err().is_some_and(|b| b.contains("kind")));
}

#[tokio::test]
async fn an_event_from_one_process_reaches_a_viewer_of_another_and_only_the_owner_sees_it() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    // A second Slipway process on the same database and Redis.
    let other = TestApp::builder().database(&app.database).build().await;
    let viewer = other
        .signed_in("admin", crate::support::app::ADMIN_PASSWORD)
        .await;
    // And a user who may not see the admin's deployments, watching the same process.
    let (_, bystander) = other.user_signed_in(&admin, "bystander").await;

    let mut events = SseStream::open(&viewer, "/api/v1/events", None).await;
    assert_eq!(events.next(EVENT_DEADLINE).await.unwrap().event, "ready");
    let mut bystanders = SseStream::open(&bystander, "/api/v1/events", None).await;
    assert_eq!(
        bystanders.next(EVENT_DEADLINE).await.unwrap().event,
        "ready"
    );

    let git = GitServer::start().await;
    let id = start_chatty(&admin, &git, "crossing").await;
    let mut states = BTreeSet::new();
    while !states.contains("running") {
        let event = events.next(EVENT_DEADLINE).await.unwrap();
        assert_eq!(event.event, "deployment", "{event:?}");
        let change: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(change["deployment_id"], id.as_str());
        assert_eq!(change["deployment"]["id"], id.as_str());
        states.insert(change["state"].as_str().unwrap().to_owned());
    }
    for step in ["queued", "building", "running"] {
        assert!(states.contains(step), "{step} in {states:?}");
    }

    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/deployments/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 202);
    loop {
        let event = events.next(EVENT_DEADLINE).await.unwrap();
        if event.event == "deleted" {
            assert_eq!(
                serde_json::from_str::<Value>(&event.data).unwrap()["deployment_id"],
                id.as_str()
            );
            break;
        }
    }
    // The bystander heard nothing of it.
    let heard =
        tokio::time::timeout(Duration::from_millis(500), bystanders.next(EVENT_DEADLINE)).await;
    assert!(heard.is_err(), "{heard:?}");
}

#[tokio::test]
async fn a_disabled_account_loses_its_open_event_stream() {
    let app = TestApp::new().await;
    let admin = app.with_admin().await;
    let (id, leaver) = app.user_signed_in(&admin, "leaver").await;
    let mut events = SseStream::open(&leaver, "/api/v1/events", None).await;
    assert_eq!(events.next(EVENT_DEADLINE).await.unwrap().event, "ready");

    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(json!({ "disabled": true })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // The stream ends within a recheck (30 s); keep-alive comments do not count as events.
    let ended = tokio::time::timeout(Duration::from_secs(45), async {
        while events.next(EVENT_DEADLINE).await.is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the stream was still open after 45 s");
    let (status, _) = SseStream::try_open(&leaver, "/api/v1/events", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn after_redis_restarts_viewers_are_told_to_resync_and_events_flow_again() {
    let mut redis = crate::support::services::PrivateRedis::start().await;
    let app = TestApp::builder().redis(redis.url()).build().await;
    let admin = app.with_admin().await;
    let (_, me) = admin.get_json("/api/v1/me").await;
    let owner: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO deployments (owner_id, name, repo_url, branch, subdomain, dockerfile,
                                  build_context, memory_mb, cpu_millis, state)
         VALUES ($1, 'steady', 'https://github.com/example/app.git', 'main', 'steady',
                 'Dockerfile', '.', 64, 1000, 'stopped')
         RETURNING id",
    )
    .bind(owner)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let mut events = SseStream::open(&admin, "/api/v1/events", None).await;
    assert_eq!(events.next(EVENT_DEADLINE).await.unwrap().event, "ready");

    redis.kill();
    redis.resume().await;
    // Messages may have been lost meanwhile: once subscribed again, viewers hear so.
    let told = events.next(EVENT_DEADLINE).await.unwrap();
    assert_eq!(told.event, "resync", "{told:?}");

    slipway::server::live::events::changed(&app.state, id).await;
    loop {
        let event = events.next(EVENT_DEADLINE).await.unwrap();
        if event.event == "resync" {
            continue;
        }
        assert_eq!(event.event, "deployment", "{event:?}");
        let change: Value = serde_json::from_str(&event.data).unwrap();
        assert_eq!(change["deployment_id"], id.to_string());
        break;
    }
}
