use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    components::{use_toasts, Button, ButtonKind},
    features::deployments::{
        api::{list_deployments, Redeploy},
        components::{age, now_epoch, DeleteDialog, StateBadge},
        live::{use_event_stream, StreamEvent},
        types::{Deployment, DeploymentDeleted, DeploymentEvent, DeploymentState},
    },
};

/// Changes heard since the list was read: a newer copy, or `None` once deleted.
type Overlay = HashMap<String, Option<Deployment>>;

/// The signed-in person's deployments as cards that follow every state change live.
#[component]
pub fn Dashboard() -> impl IntoView {
    let listed = Resource::new(|| (), |_| list_deployments());
    let overlay = RwSignal::new(Overlay::new());
    // The first `ready` comes right after the list was read; a later one is a reconnect.
    let connected_before = StoredValue::new(false);
    use_event_stream(
        Signal::derive(|| Some("/api/v1/events".to_owned())),
        &["deployment", "deleted", "resync", "ready"],
        move |event: StreamEvent| match event.name {
            "deployment" => {
                if let Ok(change) = serde_json::from_str::<DeploymentEvent>(&event.data) {
                    overlay.update(|o| {
                        // Two processes may deliver out of order: an older state never wins,
                        // and nothing comes back once deleted.
                        let stale = match o.get(&change.deployment_id) {
                            Some(None) => true,
                            Some(Some(known)) => known.updated_at > change.deployment.updated_at,
                            None => false,
                        };
                        if !stale {
                            o.insert(change.deployment_id, Some(change.deployment));
                        }
                    });
                }
            }
            "deleted" => {
                if let Ok(gone) = serde_json::from_str::<DeploymentDeleted>(&event.data) {
                    overlay.update(|o| {
                        o.insert(gone.deployment_id, None);
                    });
                }
            }
            "ready" if !connected_before.get_value() => connected_before.set_value(true),
            // Events may have been missed (told so, or reconnected): read the list again.
            _ => {
                overlay.set(Overlay::new());
                listed.refetch();
            }
        },
    );
    let search = RwSignal::new(String::new());
    let filter = RwSignal::new(String::from("all"));
    let to_delete = RwSignal::new(None::<Deployment>);

    view! {
        <div class="flex flex-wrap items-center justify-between gap-4">
            <h1 class="text-2xl font-bold tracking-tight">"Deployments"</h1>
            <A href="/deployments/new" attr:class="inline-flex items-center gap-2 rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-indigo-500" attr:data-testid="new-deployment">
                "New deployment"
            </A>
        </div>
        <div class="mt-4 flex flex-wrap gap-2" role="search">
            <label for="deployment-search" class="sr-only">"Search deployments by name"</label>
            <input id="deployment-search" type="search" placeholder="Search by name" class="w-full max-w-xs rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900"
                prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev)) />
            <label for="state-filter" class="sr-only">"Filter by state"</label>
            <select id="state-filter" class="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900"
                on:change=move |ev| filter.set(event_target_value(&ev))>
                <option value="all">"All states"</option>
                <option value="running">"Running"</option>
                <option value="deploying">"Deploying"</option>
                <option value="failed">"Failed"</option>
                <option value="stopped">"Stopped"</option>
            </select>
        </div>
        <Transition fallback=|| view! { <Skeleton /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Err(e) => view! { <p role="alert" class="mt-6 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                    Ok(list) => {
                        let cards = Memo::new(move |_| {
                            let mut all = list.clone();
                            overlay.with(|o| {
                                all.retain(|d| !matches!(o.get(&d.id), Some(None)));
                                for d in &mut all {
                                    if let Some(Some(newer)) = o.get(&d.id) {
                                        *d = newer.clone();
                                    }
                                }
                                let mut fresh: Vec<Deployment> = o
                                    .values()
                                    .flatten()
                                    .filter(|n| !all.iter().any(|d| d.id == n.id))
                                    .cloned()
                                    .collect();
                                fresh.sort_by(|a, b| b.created_at.cmp(&a.created_at));
                                fresh.extend(all);
                                fresh
                            })
                        });
                        let visible = move || {
                            let needle = search.get().to_lowercase();
                            let wanted = filter.get();
                            cards
                                .get()
                                .into_iter()
                                .filter(|d| needle.is_empty() || d.name.to_lowercase().contains(&needle) || d.subdomain.contains(&needle))
                                .filter(|d| match wanted.as_str() {
                                    "running" => d.state == DeploymentState::Running,
                                    "deploying" => d.state.is_in_progress(),
                                    "failed" => d.state == DeploymentState::Failed,
                                    "stopped" => d.state == DeploymentState::Stopped,
                                    _ => true,
                                })
                                .collect::<Vec<_>>()
                        };
                        view! {
                            <Show
                                when=move || !cards.with(Vec::is_empty)
                                fallback=|| view! { <EmptyState /> }
                            >
                                <ul class="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3" data-testid="deployment-cards">
                                    <For each=visible key=|d| (d.id.clone(), d.updated_at.clone(), d.state.as_str()) let:d>
                                        <Card deployment=d to_delete />
                                    </For>
                                </ul>
                                <Show when=move || visible().is_empty()>
                                    <p class="mt-6 text-sm text-slate-500">"No deployment matches."</p>
                                </Show>
                            </Show>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
        <DeleteDialog target=to_delete />
    }
}

#[component]
fn Card(deployment: Deployment, to_delete: RwSignal<Option<Deployment>>) -> impl IntoView {
    let redeploy = ServerAction::<Redeploy>::new();
    let toasts = use_toasts();
    let name = deployment.name.clone();
    Effect::new(move |_| match redeploy.value().get() {
        Some(Ok(_)) => toasts.ok(format!("Redeploying {name}")),
        Some(Err(e)) => toasts.error(e.to_string()),
        None => {}
    });
    let d = deployment.clone();
    let host = d.url.split("://").nth(1).unwrap_or(&d.url).to_owned();
    let release = d.latest_release.clone();
    let now = now_epoch();
    let detail = format!("/deployments/{}", d.id);
    let state = d.state;
    let id = d.id.clone();
    let (card_id, card_name) = (d.id.clone(), d.name.clone());
    view! {
        <li class="flex flex-col gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid="deployment-card" data-id=card_id data-name=card_name>
            <div class="flex items-start justify-between gap-2">
                <h2 class="min-w-0 truncate font-semibold">
                    <A href=detail.clone() attr:class="hover:underline">{d.name.clone()}</A>
                </h2>
                <StateBadge state=state />
            </div>
            <a href=d.url.clone() target="_blank" rel="noopener" class="truncate text-sm text-indigo-600 hover:underline dark:text-indigo-400" data-testid="visit">
                {host} " ↗"
            </a>
            <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs text-slate-600 dark:text-slate-400">
                {release.map(|r| view! {
                    <dt>"Release"</dt>
                    <dd class="truncate">
                        "#" {r.number} " "
                        {match r.commit_sha.as_deref() {
                            Some(sha) => format!("{} {}", sha.chars().take(7).collect::<String>(), r.commit_message.clone().unwrap_or_default()),
                            None => r.trigger.clone(),
                        }}
                        " · " {age(&r.created_at, now)}
                    </dd>
                })}
                {d.port.map(|p| view! { <dt>"Port"</dt><dd>{p}</dd> })}
            </dl>
            {d.error.clone().map(|e| view! { <p class="text-xs text-rose-600 dark:text-rose-400" data-testid="card-error">{e}</p> })}
            {d.routing_error.clone().map(|e| view! { <p class="text-xs text-amber-700 dark:text-amber-400">{e}</p> })}
            <div class="mt-auto flex flex-wrap gap-2 pt-1">
                <A href=detail attr:class="rounded-md px-3 py-1.5 text-sm font-medium ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Logs"</A>
                <Button
                    kind=ButtonKind::Secondary
                    testid="redeploy"
                    pending=redeploy.pending()
                    disabled=Signal::derive(move || state == DeploymentState::Deleting)
                    on_click=Box::new(move || { redeploy.dispatch(Redeploy { id: id.clone() }); })
                >
                    "Redeploy"
                </Button>
                <Button
                    kind=ButtonKind::Danger
                    testid="delete"
                    disabled=Signal::derive(move || state == DeploymentState::Deleting)
                    on_click=Box::new(move || to_delete.set(Some(deployment.clone())))
                >
                    "Delete"
                </Button>
            </div>
        </li>
    }
}

#[component]
fn EmptyState() -> impl IntoView {
    view! {
        <div class="mt-10 rounded-lg border-2 border-dashed border-slate-300 p-10 text-center dark:border-slate-700" data-testid="empty-state">
            <h2 class="text-lg font-semibold">"Nothing deployed yet"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Paste a Git URL, pick a subdomain, and Slipway builds and runs it."</p>
            <A href="/deployments/new" attr:class="mt-4 inline-flex rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">"Deploy your first app"</A>
        </div>
    }
}

#[component]
fn Skeleton() -> impl IntoView {
    view! {
        <ul class="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-busy="true" aria-label="Loading deployments">
            {(0..3).map(|_| view! {
                <li class="h-44 animate-pulse rounded-lg border border-slate-200 bg-slate-100 dark:border-slate-800 dark:bg-slate-900"></li>
            }).collect_view()}
        </ul>
    }
}
