//! The deployment page's Webhook tab: GitHub's URL and secret (shown once), rotation, the
//! generic hook for CI, and recent deliveries with what came of each.

use leptos::prelude::*;

use crate::{
    components::{form_error, CopyButton, FormError},
    features::deployments::{
        api::{get_webhook, webhook_deliveries, DisableWebhook, EnableWebhook},
        types::Deployment,
    },
};

#[component]
pub fn Webhook(current: Signal<Option<Deployment>>) -> impl IntoView {
    let id = move || current.get().map(|d| d.id).unwrap_or_default();
    let enable = ServerAction::<EnableWebhook>::new();
    let disable = ServerAction::<DisableWebhook>::new();
    let refresh = RwSignal::new(0u32);
    let info = Resource::new(
        move || (id(), enable.version().get(), disable.version().get()),
        |(id, ..)| get_webhook(id),
    );
    let deliveries = Resource::new(
        move || (id(), refresh.get(), enable.version().get()),
        |(id, ..)| webhook_deliveries(id),
    );
    let enable_result = Signal::derive(move || enable.value().get());
    // The secret of the last turn-on or rotation, until the webhook is turned off.
    let secret = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(made)) = enable.value().get() {
            secret.set(Some(made.secret));
        }
    });
    Effect::new(move |_| {
        disable.version().get();
        secret.set(None);
    });
    let fresh_secret = move || secret.get();
    view! {
        <div class="space-y-6">
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || info.get().map(|info| match info {
                    Ok(info) => view! {
                        <div class="rounded-lg border border-slate-200 p-4 dark:border-slate-800" data-testid="webhook">
                            <h2 class="font-semibold">"Push webhook"</h2>
                            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                                "GitHub → repository → Settings → Webhooks → Add webhook: this URL, content type "
                                <code>"application/json"</code> ", the secret below, the " <em>"push"</em> " event. A push to the tracked branch deploys that commit."
                            </p>
                            <div class="mt-3 flex gap-2">
                                <code class="block w-full break-all rounded-md bg-slate-50 px-2 py-1 text-xs dark:bg-slate-950" data-testid="webhook-url">{info.url.clone()}</code>
                                <CopyButton text=info.url.clone() />
                            </div>
                            {move || fresh_secret().map(|secret| view! {
                                <div role="status" class="mt-3 rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200">
                                    <p class="font-medium">"The secret, shown this once:"</p>
                                    <div class="mt-1 flex gap-2">
                                        <code class="block w-full break-all font-mono text-xs" data-testid="webhook-secret">{secret.clone()}</code>
                                        <CopyButton text=secret />
                                    </div>
                                </div>
                            })}
                            <p class="mt-3 text-xs text-slate-500">
                                "Other Git hosts and CI: " <code>{format!("POST {}", info.generic_url)}</code>
                                " with " <code>"Authorization: Bearer <API token>"</code> ", an optional " <code>"Idempotency-Key"</code>
                                " and " <code>"{\"commit\": \"<sha>\"}"</code> "."
                            </p>
                            <div class="mt-4 flex flex-wrap gap-2">
                                <ActionForm action=enable>
                                    <input type="hidden" name="id" value=id />
                                    <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500" data-testid="webhook-enable">
                                        {if info.enabled { "Rotate secret" } else { "Turn on" }}
                                    </button>
                                </ActionForm>
                                {info.enabled.then(|| view! {
                                    <ActionForm action=disable>
                                        <input type="hidden" name="id" value=id />
                                        <button type="submit" class="rounded-md px-3 py-1.5 text-sm text-rose-700 ring-1 ring-inset ring-rose-200 hover:bg-rose-50 dark:text-rose-300 dark:ring-rose-900" data-testid="webhook-disable">"Turn off"</button>
                                    </ActionForm>
                                })}
                            </div>
                            <div class="mt-2"><FormError message=form_error(enable_result) /></div>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
            <div>
                <div class="flex items-center justify-between">
                    <h2 class="font-semibold">"Recent deliveries"</h2>
                    <button type="button" class="rounded-md px-2 py-1 text-sm ring-1 ring-inset ring-slate-300 dark:ring-slate-700" on:click=move |_| refresh.update(|n| *n += 1) data-testid="deliveries-refresh">"Refresh"</button>
                </div>
                <Transition fallback=|| ()>
                    {move || deliveries.get().map(|list| match list {
                        Ok(list) if list.is_empty() => view! { <p class="mt-2 text-sm text-slate-500" data-testid="no-deliveries">"None yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table class="mt-2 w-full text-left text-sm" data-testid="deliveries">
                                <thead class="text-xs text-slate-500"><tr><th class="py-1">"When"</th><th>"Event"</th><th>"Outcome"</th><th>"Detail"</th></tr></thead>
                                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                    {list.into_iter().map(|d| {
                                        let colour = match d.outcome.as_str() {
                                            "queued" | "pong" => "text-emerald-700 dark:text-emerald-400",
                                            "refused" => "text-rose-700 dark:text-rose-400",
                                            _ => "text-slate-600 dark:text-slate-400",
                                        };
                                        let detail = [
                                            d.commit_sha.as_deref().map(|c| format!("commit {}", &c[..c.len().min(12)])),
                                            (!d.detail.is_empty()).then(|| d.detail.clone()),
                                            (d.repeats > 0).then(|| format!("received {} more time(s)", d.repeats)),
                                        ].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                                        view! {
                                            <tr data-testid="delivery" data-outcome=d.outcome.clone()>
                                                <td class="py-1 font-mono text-xs">{d.received_at.get(..19).unwrap_or_default().replace('T', " ")}</td>
                                                <td>{format!("{} {}", d.source, d.event)}</td>
                                                <td class=colour>{d.outcome.clone()}</td>
                                                <td class="text-slate-600 dark:text-slate-400">{detail}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                    })}
                </Transition>
            </div>
        </div>
    }
}
