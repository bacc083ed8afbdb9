//! The account page's Discord section (Linked Roles), and `/discord/link`, where a member who
//! came from Discord and had to sign in first goes back to the verification URL.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::features::auth::{
    api::{my_discord, RefreshDiscord},
    components::RequireUser,
};

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn DiscordSection() -> impl IntoView {
    let refresh = ServerAction::<RefreshDiscord>::new();
    let status = Resource::new(move || refresh.version().get(), |_| my_discord());
    view! {
        <Transition fallback=|| ()>
            {move || status.get().and_then(Result::ok).filter(|s| s.available).map(|s| {
                let values = s.values.clone().and_then(|v| v.as_object().cloned()).unwrap_or_default();
                view! {
                    <section class=CARD aria-labelledby="discord-heading" data-testid="discord-connection">
                        <h2 id="discord-heading" class="text-lg font-semibold">"Discord roles"</h2>
                        <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Discord servers can give you roles from what you do here (Linked Roles). Slipway keeps them current."</p>
                        {if s.connected {
                            view! {
                                <p class="mt-4 text-sm" data-testid="discord-state">
                                    {if s.refused { "Discord refused Slipway's access: connect again." } else if s.pending { "Connected · an update is on its way." } else { "Connected." }}
                                    {s.pushed_at.clone().map(|t| format!(" Last sent {}.", t.replace('T', " ").replace('Z', " UTC")))}
                                </p>
                                <dl class="mt-3 grid grid-cols-1 gap-2 text-sm sm:grid-cols-3" data-testid="discord-values">
                                    {values.into_iter().map(|(k, v)| view! {
                                        <div><dt class="text-slate-500">{k}</dt><dd class="font-mono">{v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())}</dd></div>
                                    }).collect_view()}
                                </dl>
                                {s.last_error.clone().map(|e| view! { <p role="alert" class="mt-3 text-sm text-rose-600" data-testid="discord-error">{e}</p> })}
                                <div class="mt-4 flex gap-2">
                                    <ActionForm action=refresh>
                                        <button type="submit" class="rounded-md px-3 py-1.5 text-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800">"Refresh now"</button>
                                    </ActionForm>
                                    {s.refused.then(|| view! { <a href=s.connect_url.clone() rel="external" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">"Connect again"</a> })}
                                </div>
                            }.into_any()
                        } else {
                            view! {
                                <a href=s.connect_url.clone() rel="external" data-testid="discord-connect" class="mt-4 inline-block rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">"Connect Discord roles"</a>
                            }.into_any()
                        }}
                    </section>
                }
            })}
        </Transition>
    }
}

/// `/discord/link`: back to Discord's verification flow after signing in.
#[component]
pub fn DiscordLinkPage() -> impl IntoView {
    view! {
        <Title text="Connect Discord" />
        <RequireUser children=|_| view! { <ContinueToDiscord /> } />
    }
}

#[component]
fn ContinueToDiscord() -> impl IntoView {
    // In the browser, go on by itself; the link is there for anyone without scripts.
    Effect::new(move |_| {
        let _ = window().location().set_href("/discord/linked-role");
    });
    view! {
        <section class="mx-auto max-w-md py-8 text-center">
            <h1 class="text-2xl font-bold tracking-tight">"Connecting Discord…"</h1>
            <p class="mt-4 text-slate-600 dark:text-slate-400">"Slipway sends Discord your number of running deployments, how long you have been a member and whether you are an admin, so servers can give you roles."</p>
            <a href="/discord/linked-role" rel="external" class="mt-6 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Continue to Discord"</a>
        </section>
    }
}
