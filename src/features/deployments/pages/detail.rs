use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::Deserialize;

use crate::{
    components::{use_toasts, Button, ButtonKind},
    error::AppError,
    features::{
        auth::components::RequireUser,
        deployments::{
            api::{
                get_deployment, list_releases, reveal_env, Power, Redeploy, Rollback, SetEnv,
                UpdateDeployment,
            },
            components::{
                label, now_epoch, parse_epoch, DeleteDialog, LogLineView, LogView, StateBadge,
                MAX_LINES,
            },
            live::{use_event_stream, StreamEvent},
            types::{
                Deployment, DeploymentEvent, DeploymentState, LogLine, ReleaseState, RuntimeLine,
                UpdateDeploymentRequest,
            },
        },
    },
};

#[component]
pub fn DeploymentPage() -> impl IntoView {
    view! { <RequireUser children=|_| view! { <Detail /> } /> }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Build,
    Runtime,
    Releases,
    Environment,
    Settings,
    Webhook,
    Danger,
}

const TABS: [(Tab, &str); 7] = [
    (Tab::Build, "Build log"),
    (Tab::Runtime, "Runtime log"),
    (Tab::Releases, "Releases"),
    (Tab::Environment, "Environment"),
    (Tab::Settings, "Settings"),
    (Tab::Webhook, "Webhook"),
    (Tab::Danger, "Danger zone"),
];

#[component]
fn Detail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let fetched = Resource::new(id, get_deployment);
    // The newest state heard on the events stream, ahead of the fetched one.
    let heard = RwSignal::new(None::<Deployment>);
    let gone = RwSignal::new(false);
    let connected_before = StoredValue::new(false);
    use_event_stream(
        Signal::derive(|| Some("/api/v1/events".to_owned())),
        &["deployment", "deleted", "resync", "ready"],
        move |event: StreamEvent| match event.name {
            "deployment" => {
                if let Ok(change) = serde_json::from_str::<DeploymentEvent>(&event.data) {
                    if change.deployment_id == id() {
                        // An older state delivered late never replaces a newer one.
                        heard.update(|known| {
                            if known
                                .as_ref()
                                .is_none_or(|k| k.updated_at <= change.deployment.updated_at)
                            {
                                *known = Some(change.deployment);
                            }
                        });
                    }
                }
            }
            "deleted" => {
                if event.data.contains(&id()) {
                    gone.set(true);
                }
            }
            "ready" if !connected_before.get_value() => connected_before.set_value(true),
            // Told events were missed, or reconnected: read it again (in place, so the open
            // tab and its streams stay as they are).
            _ => leptos::task::spawn_local(async move {
                if let Ok(now) = get_deployment(id()).await {
                    heard.set(Some(now));
                }
            }),
        },
    );
    let current =
        Signal::derive(move || heard.get().or_else(|| fetched.get().and_then(Result::ok)));
    view! {
        <Transition fallback=|| view! { <div class="h-40 animate-pulse rounded-lg bg-slate-100 dark:bg-slate-900" aria-busy="true"></div> }>
            {move || Suspend::new(async move {
                match fetched.await {
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                    Ok(_) => view! { <Loaded current gone /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Loaded(current: Signal<Option<Deployment>>, gone: RwSignal<bool>) -> impl IntoView {
    let d = move || current.get();
    let field = move |f: fn(&Deployment) -> String| move || d().map(|d| f(&d)).unwrap_or_default();
    let state = Signal::derive(move || d().map_or(DeploymentState::Queued, |d| d.state));
    let tab = RwSignal::new(Tab::Build);
    let to_delete = RwSignal::new(None::<Deployment>);
    let toasts = use_toasts();
    let redeploy = ServerAction::<Redeploy>::new();
    let power = ServerAction::<Power>::new();
    Effect::new(move |_| {
        for result in [
            redeploy.value().get().map(|r| r.map(|_| "Redeploy queued")),
            power.value().get().map(|r| r.map(|_| "Done")),
        ]
        .into_iter()
        .flatten()
        {
            match result {
                Ok(message) => toasts.ok(message),
                Err(e) => toasts.error(e.to_string()),
            }
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if gone.get() {
            navigate("/", Default::default());
        }
    });
    let id = Signal::derive(move || d().map(|d| d.id).unwrap_or_default());

    view! {
        <Title text=field(|d| d.name.clone()) />
        <header class="flex flex-wrap items-start justify-between gap-4">
            <div class="min-w-0">
                <div class="flex items-center gap-3">
                    <h1 class="truncate text-2xl font-bold tracking-tight" data-testid="deployment-name">{field(|d| d.name.clone())}</h1>
                    <StateBadge state />
                </div>
                <a href=field(|d| d.url.clone()) target="_blank" rel="noopener" class="text-sm text-indigo-600 hover:underline dark:text-indigo-400">{field(|d| d.url.clone())} " ↗"</a>
                {move || d().and_then(|d| d.error).map(|e| view! { <p class="mt-1 text-sm text-rose-600 dark:text-rose-400" data-testid="deployment-error">{e}</p> })}
                {move || d().and_then(|d| d.routing_error).map(|e| view! { <p class="mt-1 text-sm text-amber-700 dark:text-amber-400">{e}</p> })}
            </div>
            <div class="flex flex-wrap gap-2">
                <Button kind=ButtonKind::Secondary testid="redeploy" pending=redeploy.pending()
                    disabled=Signal::derive(move || state.get() == DeploymentState::Deleting)
                    on_click=Box::new(move || { redeploy.dispatch(Redeploy { id: id.get_untracked() }); })>"Redeploy"</Button>
                <Show when=move || state.get() == DeploymentState::Running>
                    <Button kind=ButtonKind::Secondary testid="stop" pending=power.pending()
                        on_click=Box::new(move || { power.dispatch(Power { id: id.get_untracked(), action: "stop".into() }); })>"Stop"</Button>
                </Show>
                <Show when=move || state.get() == DeploymentState::Stopped>
                    <Button kind=ButtonKind::Secondary testid="start" pending=power.pending()
                        on_click=Box::new(move || { power.dispatch(Power { id: id.get_untracked(), action: "start".into() }); })>"Start"</Button>
                </Show>
                <Button kind=ButtonKind::Danger testid="delete" on_click=Box::new(move || to_delete.set(current.get_untracked()))>"Delete"</Button>
            </div>
        </header>
        <Timeline current />
        <div role="tablist" aria-label="Deployment" class="mt-6 flex gap-1 overflow-x-auto border-b border-slate-200 dark:border-slate-800">
            {TABS.into_iter().map(|(t, name)| view! {
                <button type="button" role="tab" aria-selected=move || (tab.get() == t).to_string()
                    class="whitespace-nowrap border-b-2 px-3 py-2 text-sm aria-selected:border-indigo-600 aria-selected:font-medium aria-selected:text-indigo-600 border-transparent text-slate-600 dark:text-slate-400 dark:aria-selected:text-indigo-400"
                    on:click=move |_| tab.set(t)>{name}</button>
            }).collect_view()}
        </div>
        <section class="mt-4" role="tabpanel">
            {move || match tab.get() {
                Tab::Build => view! { <BuildLog current /> }.into_any(),
                Tab::Runtime => view! { <RuntimeLog current /> }.into_any(),
                Tab::Releases => view! { <Releases current /> }.into_any(),
                Tab::Environment => view! { <Environment current /> }.into_any(),
                Tab::Settings => view! { <Settings current /> }.into_any(),
                Tab::Webhook => view! { <super::webhook::Webhook current /> }.into_any(),
                Tab::Danger => view! {
                    <div class="rounded-lg border border-rose-300 p-4 dark:border-rose-900">
                        <h2 class="font-semibold text-rose-700 dark:text-rose-400">"Delete this deployment"</h2>
                        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Removes the containers, images, logs, variables and routes. It cannot be undone."</p>
                        <div class="mt-3">
                            <Button kind=ButtonKind::Danger on_click=Box::new(move || to_delete.set(current.get_untracked()))>"Delete deployment"</Button>
                        </div>
                    </div>
                }.into_any(),
            }}
        </section>
        <DeleteDialog target=to_delete on_deleted=Callback::new(move |_| gone.set(true)) />
    }
}

/// The steps of the newest release, the one it is at highlighted.
#[component]
fn Timeline(current: Signal<Option<Deployment>>) -> impl IntoView {
    const STEPS: [DeploymentState; 6] = [
        DeploymentState::Queued,
        DeploymentState::Cloning,
        DeploymentState::Building,
        DeploymentState::Starting,
        DeploymentState::CheckingHealth,
        DeploymentState::Running,
    ];
    let release_state = move || {
        current
            .get()
            .and_then(|d| d.latest_release)
            .map(|r| r.state)
    };
    let position = move || match release_state() {
        Some(ReleaseState::Queued) => Some(0),
        Some(ReleaseState::Cloning) => Some(1),
        Some(ReleaseState::Building) => Some(2),
        Some(ReleaseState::Starting) => Some(3),
        Some(ReleaseState::CheckingHealth) => Some(4),
        Some(ReleaseState::Running | ReleaseState::Superseded) => Some(6),
        Some(ReleaseState::Failed) | None => None,
    };
    let failed = move || release_state() == Some(ReleaseState::Failed);
    // How long the release spent in step `i`: until the next step it reached, or until now.
    let took = move |i: usize| -> Option<String> {
        let release = current.get()?.latest_release?;
        let at = |step: DeploymentState| -> Option<f64> {
            if step == DeploymentState::Queued {
                parse_epoch(&release.created_at)
            } else {
                parse_epoch(release.steps.get(step.as_str())?)
            }
        };
        let start = at(STEPS[i])?;
        if STEPS[i] == DeploymentState::Running {
            return None;
        }
        let end = STEPS[i + 1..]
            .iter()
            .find_map(|s| at(*s))
            .or_else(|| release.steps.get("failed").and_then(|t| parse_epoch(t)))
            .unwrap_or_else(now_epoch);
        let seconds = (end - start).max(0.0);
        Some(if seconds < 60.0 {
            format!("{seconds:.1}s")
        } else {
            format!(
                "{}m {:02}s",
                (seconds / 60.0) as u64,
                (seconds % 60.0) as u64
            )
        })
    };
    view! {
        <ol class="mt-4 flex flex-wrap items-center gap-2 text-xs" aria-label="Release progress" data-testid="timeline">
            {STEPS.into_iter().enumerate().map(|(i, step)| view! {
                <li
                    class=move || {
                        let base = "rounded-full px-2 py-0.5 ring-1 ring-inset";
                        match position() {
                            Some(p) if i < p => format!("{base} bg-emerald-50 text-emerald-800 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-900"),
                            Some(p) if i == p => format!("{base} bg-sky-50 font-medium text-sky-800 ring-sky-300 dark:bg-sky-950 dark:text-sky-300"),
                            _ if failed() => format!("{base} text-slate-400 ring-slate-200 dark:ring-slate-800"),
                            _ => format!("{base} text-slate-500 ring-slate-200 dark:ring-slate-800"),
                        }
                    }
                    aria-current=move || (position() == Some(i)).then_some("step")
                >
                    {label(step)}
                    {move || took(i).map(|t| view! { <span class="ml-1 tabular-nums opacity-70" data-testid="step-duration">{t}</span> })}
                </li>
            }).collect_view()}
            <Show when=failed>
                <li class="rounded-full bg-rose-50 px-2 py-0.5 text-rose-700 ring-1 ring-inset ring-rose-200 dark:bg-rose-950 dark:text-rose-300 dark:ring-rose-900">"Failed"</li>
            </Show>
        </ol>
    }
}

#[component]
fn BuildLog(current: Signal<Option<Deployment>>) -> impl IntoView {
    let release = Memo::new(move |_| {
        current
            .get()
            .and_then(|d| d.latest_release)
            .map(|r| (r.deployment_id, r.id, r.number))
    });
    let lines = RwSignal::new(Vec::<LogLineView>::new());
    let url = Signal::derive(move || {
        release
            .get()
            .map(|(d, r, _)| format!("/api/v1/deployments/{d}/logs?kind=build&release={r}"))
    });
    Effect::new(move |_| {
        url.track();
        lines.set(Vec::new());
    });
    use_event_stream(url, &["message", "end"], move |event: StreamEvent| {
        if event.name == "message" {
            if let Ok(line) = serde_json::from_str::<LogLine>(&event.data) {
                push(
                    lines,
                    LogLineView {
                        key: line.seq.to_string(),
                        stream: line.stream,
                        text: line.line,
                    },
                );
            }
        }
    });
    view! {
        <LogView
            lines
            empty="Waiting for the build log…"
            file_name=Signal::derive(move || release.get().map(|(_, _, n)| format!("release-{n}-build.log")).unwrap_or_default())
            testid="build-log"
        />
    }
}

#[component]
fn RuntimeLog(current: Signal<Option<Deployment>>) -> impl IntoView {
    let live = Memo::new(move |_| {
        current
            .get()
            .and_then(|d| d.current_release.map(|r| (d.id, r.id)))
    });
    let lines = RwSignal::new(Vec::<LogLineView>::new());
    let ended = RwSignal::new(None::<String>);
    let url = Signal::derive(move || {
        live.get()
            .map(|(d, r)| format!("/api/v1/deployments/{d}/logs?kind=runtime&release={r}"))
    });
    Effect::new(move |_| {
        url.track();
        lines.set(Vec::new());
        ended.set(None);
    });
    #[derive(Deserialize)]
    struct End {
        #[serde(default)]
        reason: Option<String>,
    }
    use_event_stream(
        url,
        &["message", "end"],
        move |event: StreamEvent| match event.name {
            "message" => {
                if let Ok(line) = serde_json::from_str::<RuntimeLine>(&event.data) {
                    push(
                        lines,
                        LogLineView {
                            key: line.ts,
                            stream: line.stream,
                            text: line.line,
                        },
                    );
                }
            }
            _ => ended.set(Some(
                serde_json::from_str::<End>(&event.data)
                    .ok()
                    .and_then(|e| e.reason)
                    .unwrap_or_else(|| "the stream ended".into()),
            )),
        },
    );
    view! {
        <Show when=move || live.get().is_some() fallback=|| view! { <p class="text-sm text-slate-500">"No release is live yet."</p> }>
            <LogView lines empty="Waiting for the app's output…" file_name="runtime.log" testid="runtime-log" />
            {move || ended.get().map(|reason| view! { <p class="mt-2 text-xs text-slate-500">"Stream ended: " {reason}</p> })}
        </Show>
    }
}

fn push(lines: RwSignal<Vec<LogLineView>>, line: LogLineView) {
    lines.update(|l| {
        if l.last().is_some_and(|last| last.key == line.key) {
            return;
        }
        l.push(line);
        if l.len() > MAX_LINES {
            let excess = l.len() - MAX_LINES;
            l.drain(..excess);
        }
    });
}

#[component]
fn Releases(current: Signal<Option<Deployment>>) -> impl IntoView {
    let key = Memo::new(move |_| current.get().map(|d| (d.id, d.updated_at)));
    let releases = Resource::new(
        move || key.get(),
        |key| async move {
            match key {
                Some((id, _)) => list_releases(id).await,
                None => Ok(Vec::new()),
            }
        },
    );
    let rollback = ServerAction::<Rollback>::new();
    let toasts = use_toasts();
    Effect::new(move |_| match rollback.value().get() {
        Some(Ok(_)) => toasts.ok("Rollback queued"),
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    let live_id = move || current.get().and_then(|d| d.current_release).map(|r| r.id);
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || releases.get().map(|r| match r {
                Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="divide-y divide-slate-200 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="releases">
                        {list.into_iter().map(|r| {
                            let is_live = live_id().as_deref() == Some(r.id.as_str());
                            let can_roll_back = !is_live && r.image.is_some() && matches!(r.state, ReleaseState::Superseded | ReleaseState::Running);
                            let (deployment_id, release_id) = (r.deployment_id.clone(), r.id.clone());
                            view! {
                                <li class="flex flex-wrap items-center gap-3 p-3 text-sm">
                                    <span class="font-medium">"#" {r.number}</span>
                                    <span class="text-slate-500">{r.trigger.clone()}</span>
                                    <span class="font-mono text-xs">{r.commit_sha.as_deref().map(|s| s.chars().take(7).collect::<String>())}</span>
                                    <span class="min-w-0 flex-1 truncate">{r.commit_message.clone()}</span>
                                    <span class="text-xs text-slate-500">{format!("{:?}", r.state).to_lowercase()}</span>
                                    {is_live.then(|| view! { <span class="rounded bg-emerald-100 px-1.5 text-xs text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300">"live"</span> })}
                                    {r.error.clone().map(|e| view! { <p class="basis-full text-xs text-rose-600">{e}</p> })}
                                    {can_roll_back.then(|| view! {
                                        <Button kind=ButtonKind::Secondary pending=rollback.pending()
                                            on_click=Box::new(move || { rollback.dispatch(Rollback { id: deployment_id.clone(), release_id: release_id.clone() }); })>
                                            "Roll back to this"
                                        </Button>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Environment(current: Signal<Option<Deployment>>) -> impl IntoView {
    let set_env = ServerAction::<SetEnv>::new();
    let toasts = use_toasts();
    let new_key = RwSignal::new(String::new());
    let new_value = RwSignal::new(String::new());
    Effect::new(move |_| match set_env.value().get() {
        Some(Ok(_)) => {
            toasts.ok("Saved; redeploying");
            new_key.set(String::new());
            new_value.set(String::new());
        }
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    let id = move || current.get_untracked().map(|d| d.id).unwrap_or_default();
    let input_class = "rounded-md border border-slate-300 bg-white px-3 py-1.5 font-mono text-sm dark:border-slate-700 dark:bg-slate-900";
    view! {
        <div class="space-y-4">
            <p class="text-sm text-slate-600 dark:text-slate-400">"Values are stored encrypted; revealing one is recorded in the audit log. Saving a new value redeploys."</p>
            <ul class="divide-y divide-slate-200 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="env-keys">
                <For each=move || current.get().map(|d| d.env_keys).unwrap_or_default() key=|k| k.clone() children=move |key: String| {
                    let remove = key.clone();
                    view! {
                        <li class="flex items-center gap-3 p-3 text-sm" data-testid="env-key" data-key=key.clone()>
                            <span class="flex-1 font-mono">{key.clone()}</span>
                            <Revealed id=Signal::derive(id) key=key.clone() />
                            <button type="button" class="rounded px-2 py-1 text-xs text-rose-600 ring-1 ring-inset ring-slate-300 dark:ring-slate-700"
                                on:click=move |_| {
                                    set_env.dispatch(SetEnv { id: id(), env: BTreeMap::from([(remove.clone(), None)]) });
                                }>"Remove"</button>
                        </li>
                    }
                } />
            </ul>
            <form class="flex flex-wrap items-end gap-2" on:submit=move |ev| {
                ev.prevent_default();
                let key = new_key.get_untracked().trim().to_owned();
                if key.is_empty() {
                    return;
                }
                set_env.dispatch(SetEnv { id: id(), env: BTreeMap::from([(key, Some(new_value.get_untracked()))]) });
            }>
                <div>
                    <label for="env-name" class="block text-xs font-medium">"Name"</label>
                    <input id="env-name" class=input_class placeholder="NAME" prop:value=move || new_key.get() on:input=move |ev| new_key.set(event_target_value(&ev)) />
                </div>
                <div>
                    <label for="env-value" class="block text-xs font-medium">"Value"</label>
                    <input id="env-value" type="password" autocomplete="off" class=input_class prop:value=move || new_value.get() on:input=move |ev| new_value.set(event_target_value(&ev)) />
                </div>
                <button type="submit" data-testid="save-env" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60" disabled=move || set_env.pending().get()>
                    "Save and redeploy"
                </button>
            </form>
        </div>
    }
}

/// A variable's value, hidden until asked for (the server audits every reveal).
#[component]
fn Revealed(id: Signal<String>, key: String) -> impl IntoView {
    let shown = RwSignal::new(None::<String>);
    let reveal = Action::new(move |key: &String| {
        let (id, key) = (id.get_untracked(), key.clone());
        async move { reveal_env(id, key).await }
    });
    let toasts = use_toasts();
    Effect::new(move |_| match reveal.value().get() {
        Some(Ok(value)) => shown.set(Some(value)),
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    view! {
        <span class="max-w-[50%] truncate font-mono" data-testid="env-value">
            {move || shown.get().unwrap_or_else(|| "••••••".into())}
        </span>
        <button type="button" class="rounded px-2 py-1 text-xs ring-1 ring-inset ring-slate-300 dark:ring-slate-700"
            aria-pressed=move || shown.with(Option::is_some).to_string()
            on:click=move |_| {
                if shown.with(Option::is_some) {
                    shown.set(None);
                } else {
                    reveal.dispatch(key.clone());
                }
            }>
            {move || if shown.with(Option::is_some) { "Hide" } else { "Reveal" }}
        </button>
    }
}

#[component]
fn Settings(current: Signal<Option<Deployment>>) -> impl IntoView {
    let update = ServerAction::<UpdateDeployment>::new();
    let toasts = use_toasts();
    let result = Signal::derive(move || update.value().get());
    Effect::new(move |_| match result.get() {
        Some(Ok(_)) => toasts.ok("Saved"),
        Some(Err(AppError::Validation { .. })) | None => {}
        Some(Err(e)) => toasts.error(e.to_string()),
    });
    let initial = current.get_untracked();
    let text =
        |f: fn(&Deployment) -> String| RwSignal::new(initial.as_ref().map(f).unwrap_or_default());
    let name = text(|d| d.name.clone());
    let branch = text(|d| d.branch.clone());
    let dockerfile = text(|d| d.dockerfile.clone());
    let context = text(|d| d.context.clone());
    let container_port = text(|d| d.container_port.map(|p| p.to_string()).unwrap_or_default());
    let health_path = text(|d| d.health_path.clone().unwrap_or_default());
    let memory_mb = text(|d| d.memory_mb.to_string());
    let cpus = text(|d| d.cpus.to_string());
    let error = move |field: &'static str| {
        Signal::derive(move || match result.get() {
            Some(Err(AppError::Validation { fields, .. })) => fields.get(field).cloned(),
            _ => None,
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(d) = current.get_untracked() else {
            return;
        };
        let changed = |value: RwSignal<String>, was: String| {
            let now = value.get_untracked().trim().to_owned();
            (now != was).then_some(now)
        };
        let change = UpdateDeploymentRequest {
            name: changed(name, d.name.clone()),
            branch: changed(branch, d.branch.clone()),
            dockerfile: changed(dockerfile, d.dockerfile.clone()),
            context: changed(context, d.context.clone()),
            // Cleared: back to the image's port / a TCP check.
            container_port: changed(
                container_port,
                d.container_port.map(|p| p.to_string()).unwrap_or_default(),
            )
            .map(|p| {
                if p.is_empty() {
                    0
                } else {
                    p.parse().unwrap_or(u32::MAX)
                }
            }),
            health_path: changed(health_path, d.health_path.clone().unwrap_or_default()),
            memory_mb: changed(memory_mb, d.memory_mb.to_string()).map(|m| m.parse().unwrap_or(0)),
            cpus: changed(cpus, d.cpus.to_string()).map(|c| c.parse().unwrap_or(0.0)),
            env: None,
            access_token: None,
        };
        update.dispatch(UpdateDeployment { id: d.id, change });
    };
    let field = move |label: &'static str,
                      key: &'static str,
                      value: RwSignal<String>,
                      hint: &'static str| {
        let error = error(key);
        view! {
            <div class="space-y-1">
                <label for=format!("setting-{key}") class="block text-sm font-medium">{label}</label>
                <input id=format!("setting-{key}") class="block w-full rounded-md border border-slate-300 bg-white px-3 py-1.5 font-mono text-sm aria-[invalid=true]:border-rose-500 dark:border-slate-700 dark:bg-slate-900"
                    aria-invalid=move || error.get().is_some().to_string()
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                <p class="text-xs text-slate-500">{hint}</p>
                <p class="min-h-5 text-sm text-rose-600 dark:text-rose-400" data-error-for=key>{move || error.get()}</p>
            </div>
        }
    };
    view! {
        <form class="max-w-2xl space-y-2" on:submit=submit data-testid="settings-form">
            <p class="text-sm text-slate-600 dark:text-slate-400">
                "Repository: " <span class="font-mono">{move || current.get().map(|d| d.repo_url)}</span>
                ". Changes to the build or the container deploy a new release."
            </p>
            <div class="grid gap-x-4 sm:grid-cols-2">
                {field("Name", "name", name, "")}
                {field("Branch", "branch", branch, "")}
                {field("Dockerfile", "dockerfile", dockerfile, "Path in the repository.")}
                {field("Build context", "context", context, "")}
                {field("Container port", "container_port", container_port, "Empty: from the image's EXPOSE.")}
                {field("Health check path", "health_path", health_path, "Empty: a TCP connect.")}
                {field("Memory (MiB)", "memory_mb", memory_mb, "")}
                {field("CPUs", "cpus", cpus, "")}
            </div>
            <button type="submit" data-testid="save-settings" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60" disabled=move || update.pending().get()>
                "Save"
            </button>
        </form>
    }
}
