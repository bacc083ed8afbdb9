use leptos::prelude::*;

use crate::features::auth::{api::sign_in_providers, types::ProviderButton};

/// Where a provider flow starts: `/auth/{slug}/start` with `query` (already encoded).
pub fn start_path(slug: &str, query: &str) -> String {
    if query.is_empty() {
        format!("/auth/{slug}/start")
    } else {
        format!("/auth/{slug}/start?{query}")
    }
}

/// Percent-encodes a query value.
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A provider's mark: a coloured initial, so no third-party logo is fetched.
#[component]
pub fn ProviderMark(#[prop(into)] kind: String, #[prop(into)] name: String) -> impl IntoView {
    let colours = match kind.as_str() {
        "google" => "bg-white text-blue-600 ring-1 ring-slate-300",
        "github" => "bg-slate-900 text-white dark:bg-white dark:text-slate-900",
        "discord" => "bg-indigo-500 text-white",
        _ => "bg-emerald-600 text-white",
    };
    let initial: String = name
        .chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default();
    view! {
        <span aria-hidden="true" class=format!("inline-flex size-6 shrink-0 items-center justify-center rounded-full text-xs font-bold {colours}")>
            {initial}
        </span>
    }
}

/// "Continue with …" for every enabled provider; nothing when there is none. `query` is
/// added to each start link (an encoded `next=` or `invite=`).
#[component]
pub fn ProviderButtons(#[prop(into)] query: Signal<String>) -> impl IntoView {
    let providers = Resource::new(|| (), |_| sign_in_providers());
    view! {
        <Transition fallback=|| ()>
            {move || {
                providers.get().and_then(Result::ok).filter(|p| !p.is_empty()).map(|providers: Vec<ProviderButton>| view! {
                    <div class="mt-6" data-testid="provider-buttons">
                        <div class="relative my-4 flex items-center gap-3 text-xs uppercase tracking-wide text-slate-500">
                            <span class="h-px flex-1 bg-slate-200 dark:bg-slate-800"></span>
                            "or"
                            <span class="h-px flex-1 bg-slate-200 dark:bg-slate-800"></span>
                        </div>
                        <ul class="space-y-2">
                            {providers.into_iter().map(|p| {
                                let slug = p.slug.clone();
                                let href = move || start_path(&slug, &query.get());
                                view! {
                                    <li>
                                        // rel=external: a full page load, so the browser really goes to the provider.
                                        <a href=href rel="external" data-provider=p.slug.clone()
                                            class="flex w-full items-center justify-center gap-3 rounded-md bg-white px-3 py-2 text-sm font-medium text-slate-900 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:bg-slate-900 dark:text-slate-100 dark:ring-slate-700 dark:hover:bg-slate-800">
                                            <ProviderMark kind=p.kind.clone() name=p.display_name.clone() />
                                            {format!("Continue with {}", p.display_name)}
                                        </a>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </div>
                })
            }}
        </Transition>
    }
}
