use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::require_admin::{AdminNav, RequireAdmin};
use crate::features::admin::api::audit;

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log" />
        <RequireAdmin children=|_| view! { <Audit /> } />
    }
}

#[component]
fn Audit() -> impl IntoView {
    let query = use_query_map();
    let before = move || {
        query
            .read()
            .get("before")
            .and_then(|b| b.parse::<i64>().ok())
    };
    let entries = Resource::new(before, audit);
    view! {
        <h1 class="text-2xl font-bold tracking-tight">"Administration"</h1>
        <AdminNav />
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || entries.get().map(|result| match result {
                Ok(entries) => {
                    let older = entries.last().map(|e| e.id);
                    view! {
                        <table class="w-full text-left text-sm" data-testid="audit-table">
                            <thead class="text-xs uppercase text-slate-500">
                                <tr><th class="py-2">"When (UTC)"</th><th>"Event"</th><th>"Who"</th><th>"Subject"</th><th>"Address"</th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                {entries.into_iter().map(|e| view! {
                                    <tr data-testid="audit-row">
                                        <td class="py-2 font-mono text-xs">{e.at.get(..19).unwrap_or_default().replace('T', " ")}</td>
                                        <td>{e.action}</td>
                                        <td>{e.actor.unwrap_or_else(|| "—".to_owned())}</td>
                                        <td>{e.subject.unwrap_or_default()}</td>
                                        <td class="font-mono text-xs">{e.ip.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {older.map(|id| view! { <a class="mt-4 inline-block text-sm text-indigo-600 dark:text-indigo-400" href=format!("?before={id}")>"Older entries →"</a> })}
                    }.into_any()
                }
                Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}
