use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::require_admin::{AdminNav, RequireAdmin};
use crate::features::admin::{api::audit, types::AuditFilter};

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
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let filter = move || AuditFilter {
        before: param("before").and_then(|b| b.parse::<i64>().ok()),
        action: param("action"),
        actor: param("actor"),
        subject: param("subject"),
        ..AuditFilter::default()
    };
    let entries = Resource::new(filter, audit);
    // The next page keeps the filters.
    let older_href = move |id: i64| {
        let mut href = format!("?before={id}");
        for name in ["action", "actor", "subject"] {
            if let Some(v) = param(name) {
                href.push_str(&format!(
                    "&{name}={}",
                    crate::features::auth::components::encode_query_value(&v)
                ));
            }
        }
        href
    };
    let input = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900";
    view! {
        <h1 class="text-2xl font-bold tracking-tight">"Administration"</h1>
        <AdminNav />
        <Form method="GET" action="" attr:class="mb-4 flex flex-wrap items-end gap-3" attr:role="search" attr:data-testid="audit-filter">
            <label class="text-sm">"Action" <input name="action" placeholder="login, deployment.created…" prop:value=move || param("action").unwrap_or_default() class=format!("{input} mt-1 block") /></label>
            <label class="text-sm">"Who" <input name="actor" placeholder="username" prop:value=move || param("actor").unwrap_or_default() class=format!("{input} mt-1 block") /></label>
            <label class="text-sm">"Subject" <input name="subject" placeholder="user, subdomain, provider" prop:value=move || param("subject").unwrap_or_default() class=format!("{input} mt-1 block") /></label>
            <button type="submit" class="rounded-md px-3 py-1.5 text-sm ring-1 ring-inset ring-slate-300 dark:ring-slate-700">"Filter"</button>
        </Form>
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
                        {older.map(|id| view! { <a class="mt-4 inline-block text-sm text-indigo-600 dark:text-indigo-400" href=older_href(id)>"Older entries →"</a> })}
                    }.into_any()
                }
                Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}
