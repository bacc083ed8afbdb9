//! `/admin/discord`: the Discord application's URLs for the developer portal, Slipway's
//! role-connection metadata next to what Discord has, registration, and failing members.

use leptos::prelude::*;
use leptos_meta::Title;

use super::require_admin::{AdminNav, RequireAdmin};
use crate::{
    components::{form_error, CopyButton, FormError},
    features::admin::{
        api::{discord_status, RegisterDiscordCommands, RegisterDiscordMetadata},
        types::{DiscordMetadataRecord, DiscordStatus},
    },
};

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn AdminDiscordPage() -> impl IntoView {
    view! {
        <Title text="Discord" />
        <RequireAdmin children=|_| view! { <Discord /> } />
    }
}

#[component]
fn Discord() -> impl IntoView {
    let metadata = ServerAction::<RegisterDiscordMetadata>::new();
    let commands = ServerAction::<RegisterDiscordCommands>::new();
    let status = Resource::new(
        move || (metadata.version().get(), commands.version().get()),
        |_| discord_status(),
    );
    let metadata_error = form_error(Signal::derive(move || metadata.value().get()));
    let commands_error = form_error(Signal::derive(move || commands.value().get()));
    view! {
        <h1 class="text-2xl font-bold tracking-tight">"Administration"</h1>
        <AdminNav />
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || status.get().map(|s| match s {
                Ok(s) => view! { <Overview s metadata commands metadata_error commands_error /> }.into_any(),
                Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn Overview(
    s: DiscordStatus,
    metadata: ServerAction<RegisterDiscordMetadata>,
    commands: ServerAction<RegisterDiscordCommands>,
    metadata_error: Signal<Option<String>>,
    commands_error: Signal<Option<String>>,
) -> impl IntoView {
    let yes_no = |b: bool| if b { "set" } else { "not set" };
    view! {
        <div class="grid gap-8 lg:grid-cols-2">
            <section class=CARD aria-labelledby="discord-app-heading">
                <h2 id="discord-app-heading" class="text-lg font-semibold">"Application"</h2>
                <dl class="mt-4 space-y-2 text-sm">
                    <div><dt class="text-slate-500">"Application id"</dt><dd class="font-mono" data-testid="discord-app-id">{s.application_id.clone().unwrap_or_else(|| "not set (DISCORD_APPLICATION_ID or DISCORD_CLIENT_ID)".into())}</dd></div>
                    <div><dt class="text-slate-500">"Bot token (DISCORD_BOT_TOKEN)"</dt><dd>{yes_no(s.bot_token_set)}</dd></div>
                    <div><dt class="text-slate-500">"Public key (DISCORD_PUBLIC_KEY)"</dt><dd>{yes_no(s.public_key_set)}</dd></div>
                </dl>
                <UrlRow label="Linked Roles Verification URL" url=s.verification_url.clone() />
                <UrlRow label="Interactions Endpoint URL" url=s.interactions_url.clone() />
                <div class="mt-4 flex flex-wrap gap-2">
                    <ActionForm action=metadata>
                        <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500" data-testid="register-metadata">"Register metadata"</button>
                    </ActionForm>
                    <ActionForm action=commands>
                        <button type="submit" class="rounded-md px-3 py-2 text-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800" data-testid="register-commands">"Register slash commands"</button>
                    </ActionForm>
                </div>
                <div class="mt-3 space-y-2">
                    <FormError message=metadata_error />
                    <FormError message=commands_error />
                    {move || matches!(commands.value().get(), Some(Ok(_))).then(|| view! { <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400">"Commands registered."</p> })}
                </div>
            </section>
            <section class=CARD aria-labelledby="discord-metadata-heading">
                <h2 id="discord-metadata-heading" class="text-lg font-semibold">"Role-connection metadata"</h2>
                <h3 class="mt-4 text-sm font-medium">"Slipway registers"</h3>
                <Records records=s.slipway_metadata.clone() testid="slipway-metadata" />
                <h3 class="mt-4 text-sm font-medium">"Discord has"</h3>
                {match (s.discord_metadata.clone(), s.discord_error.clone()) {
                    (Some(records), _) if records.is_empty() => view! { <p class="mt-2 text-sm text-slate-500" data-testid="discord-metadata">"Nothing yet: register it."</p> }.into_any(),
                    (Some(records), _) => view! { <Records records testid="discord-metadata" /> }.into_any(),
                    (None, error) => view! { <p role="alert" class="mt-2 text-sm text-rose-600" data-testid="discord-metadata-error">{error.unwrap_or_default()}</p> }.into_any(),
                }}
            </section>
            <section class=format!("{CARD} lg:col-span-2") aria-labelledby="discord-failures-heading">
                <h2 id="discord-failures-heading" class="text-lg font-semibold">"Updates Discord did not take"</h2>
                {if s.failures.is_empty() {
                    view! { <p class="mt-2 text-sm text-slate-500" data-testid="no-discord-failures">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-3 divide-y divide-slate-100 text-sm dark:divide-slate-800" data-testid="discord-failures">
                            {s.failures.into_iter().map(|f| view! {
                                <li class="py-2">
                                    <span class="font-medium">{f.username}</span>
                                    {format!(" · {} attempt(s) · ", f.attempts)}
                                    {if f.refused { "grant refused: waits for the member to connect again".to_owned() } else { format!("next try {}", f.next_attempt_at.replace('T', " ").replace('Z', " UTC")) }}
                                    <p class="text-rose-600">{f.last_error}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
    }
}

#[component]
fn UrlRow(label: &'static str, url: String) -> impl IntoView {
    view! {
        <div class="mt-4">
            <p class="text-xs font-medium text-slate-500">{label}</p>
            <div class="mt-1 flex gap-2">
                <code class="block w-full break-all rounded-md bg-slate-50 px-2 py-1 text-xs dark:bg-slate-950">{url.clone()}</code>
                <CopyButton text=url />
            </div>
        </div>
    }
}

#[component]
fn Records(records: Vec<DiscordMetadataRecord>, testid: &'static str) -> impl IntoView {
    let kind = |k: u8| match k {
        1 => "integer ≤",
        2 => "integer ≥",
        3 => "integer =",
        4 => "integer ≠",
        5 => "days ≤",
        6 => "days ≥",
        7 => "boolean =",
        8 => "boolean ≠",
        _ => "?",
    };
    view! {
        <table class="mt-2 w-full text-left text-sm" data-testid=testid>
            <thead class="text-xs text-slate-500"><tr><th class="py-1">"Key"</th><th>"Name"</th><th>"Type"</th></tr></thead>
            <tbody>
                {records.into_iter().map(|r| view! {
                    <tr class="border-t border-slate-100 dark:border-slate-800"><td class="py-1 font-mono">{r.key}</td><td>{r.name}</td><td>{kind(r.kind)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
