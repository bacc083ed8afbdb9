use leptos::prelude::*;

use crate::{
    components::{Button, ButtonKind, StatusDot},
    features::platform::{
        api::platform_status,
        types::{HealthReport, HealthStatus},
    },
};

/// The state of the services Slipway runs on, rendered on the server and re-checked on demand.
#[component]
pub fn StatusPanel() -> impl IntoView {
    let initial = Resource::new(|| (), |_| platform_status());
    let recheck = Action::new(|_: &()| platform_status());
    let pending = recheck.pending();

    let report = move || recheck.value().get().or_else(|| initial.get());

    view! {
        <section aria-labelledby="status-heading" class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <div class="flex items-center justify-between gap-4">
                <h2 id="status-heading" class="text-lg font-semibold">"Platform status"</h2>
                <Button
                    kind=ButtonKind::Secondary
                    pending=pending
                    testid="recheck"
                    on_click=Box::new(move || {
                        recheck.dispatch(());
                    })
                >
                    {move || if pending.get() { "Checking…" } else { "Check again" }}
                </Button>
            </div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Checking…"</p> }>
                {move || report().map(|result| match result {
                    Ok(report) => view! { <Report report /> }.into_any(),
                    Err(e) => view! {
                        <p role="alert" class="mt-4 text-sm text-rose-600 dark:text-rose-400">{e.to_string()}</p>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

fn service_label(check: &str) -> &'static str {
    match check {
        "postgres" => "PostgreSQL",
        "redis" => "Redis",
        "docker" => "Docker engine",
        "nginx" => "nginx",
        _ => "Unknown service",
    }
}

#[component]
fn Report(report: HealthReport) -> impl IntoView {
    let all_ok = report.status == HealthStatus::Ok;
    // RFC 3339 from the server: the clock time is characters 11..19, no date library needed.
    let clock = report.time.get(11..19).unwrap_or(&report.time).to_owned();
    let rows = report
        .checks
        .iter()
        .map(|(name, check)| {
            let check = check.clone();
            view! {
                <li class="flex items-center justify-between gap-4 py-2" data-check=name data-ok=check.ok.to_string()>
                    <span class="flex items-center gap-2">
                        <StatusDot ok=check.ok />
                        <span class="font-medium">{service_label(name)}</span>
                        {check.detail.map(|d| view! { <span class="text-xs text-slate-500">{d}</span> })}
                    </span>
                    <span class="text-sm text-slate-600 dark:text-slate-400">
                        {match check.error {
                            Some(error) => error,
                            None => format!("{:.1} ms", check.latency_ms),
                        }}
                    </span>
                </li>
            }
        })
        .collect_view();
    view! {
        <p class="mt-2 text-sm" data-testid="overall-status">
            {if all_ok {
                view! { <span class="text-emerald-700 dark:text-emerald-400">"All systems operational"</span> }.into_any()
            } else {
                view! { <span class="text-rose-700 dark:text-rose-400">"Degraded: " {report.down.join(", ")} " down"</span> }.into_any()
            }}
        </p>
        <ul class="mt-4 divide-y divide-slate-100 dark:divide-slate-800">{rows}</ul>
        <p class="mt-4 text-xs text-slate-500">
            "Last checked at " <time datetime=report.time.clone() data-testid="checked-at">{clock} " UTC"</time>
            " · version " {report.version}
        </p>
    }
}
