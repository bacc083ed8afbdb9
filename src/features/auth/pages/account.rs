use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    components::{field_error, form_error, Field, FormError},
    features::auth::{
        api::{my_sessions, my_tokens, CreateToken, RevokeSession, RevokeToken, UpdateProfile},
        components::{use_auth, PasswordRules, RequireUser},
        types::{Me, Role},
    },
};

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account" />
        <RequireUser children=|me| view! { <Account me /> } />
    }
}

#[component]
fn Account(me: Me) -> impl IntoView {
    let role = match me.role {
        Role::Admin => "Admin",
        Role::User => "User",
    };
    view! {
        <div class="space-y-8">
            <header>
                <h1 class="text-2xl font-bold tracking-tight">"Account"</h1>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Your profile, how you sign in and where you are signed in."</p>
            </header>
            <ProfileSection me=me.clone() role />
            <super::sign_in_methods::SignInMethodsSection me=me.clone() />
            {me.has_password.then(|| view! { <PasswordSection me=me.clone() /> })}
            <super::discord_connection::DiscordSection />
            <SessionsSection />
            <TokensSection />
        </div>
    }
}

#[component]
fn ProfileSection(me: Me, role: &'static str) -> impl IntoView {
    let update = ServerAction::<UpdateProfile>::new();
    let result = Signal::derive(move || update.value().get());
    let saved = move || matches!(result.get(), Some(Ok(_)));
    let current = Signal::derive({
        let me = me.clone();
        move || match result.get() {
            Some(Ok(updated)) => updated,
            _ => me.clone(),
        }
    });
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="profile-heading">
            <h2 id="profile-heading" class="text-lg font-semibold">"Profile"</h2>
            <dl class="mt-4 grid grid-cols-1 gap-3 text-sm sm:grid-cols-3">
                <div><dt class="text-slate-500">"Username"</dt><dd data-testid="profile-username">{me.username.clone()}</dd></div>
                <div><dt class="text-slate-500">"Role"</dt><dd data-testid="profile-role">{role}</dd></div>
                <div><dt class="text-slate-500">"Member since"</dt><dd>{me.created_at.get(..10).unwrap_or_default().to_owned()}</dd></div>
            </dl>
            <ActionForm action=update attr:class="mt-4 grid max-w-2xl gap-x-4 sm:grid-cols-2" attr:data-testid="profile-form">
                <div class="sm:col-span-2"><FormError message=form_error(result) /></div>
                <Field label="Display name" name="display_name" autocomplete="name" value=Signal::derive(move || current.get().display_name) error=field_error(result, "display_name") />
                <Field label="Email" name="email" kind="email" autocomplete="email" required=true value=Signal::derive(move || current.get().email) error=field_error(result, "email") />
                <div class="flex items-center gap-3 sm:col-span-2">
                    <button type="submit" disabled=move || update.pending().get() class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">"Save profile"</button>
                    <Show when=saved><p role="status" class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="profile-saved">"Saved."</p></Show>
                </div>
            </ActionForm>
        </section>
    }
}

#[component]
fn PasswordSection(me: Me) -> impl IntoView {
    let auth = use_auth();
    let result = Signal::derive(move || auth.change_password.value().get());
    let pending = auth.change_password.pending();
    let password = RwSignal::new(String::new());
    let identities = Signal::derive(move || vec![me.username.clone(), me.email.clone()]);
    let done = move || matches!(result.get(), Some(Ok(())));
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="password-heading">
            <h2 id="password-heading" class="text-lg font-semibold">"Password"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Changing it signs you out everywhere else."</p>
            <ActionForm action=auth.change_password attr:class="mt-4 max-w-sm space-y-4" attr:data-testid="password-form">
                <FormError message=form_error(result) />
                <Show when=done>
                    <p role="status" class="rounded-md bg-emerald-50 px-3 py-2 text-sm text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200" data-testid="password-changed">
                        "Password changed. Your other sessions have been signed out."
                    </p>
                </Show>
                <Field label="Current password" name="current_password" kind="password" autocomplete="current-password" required=true error=field_error(result, "current_password") />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true error=field_error(result, "new_password") on_input=Callback::new(move |v| password.set(v))>
                    <PasswordRules password=password identities=identities />
                </Field>
                <Field label="Confirm new password" name="confirm" kind="password" autocomplete="new-password" required=true error=field_error(result, "confirm") />
                <button type="submit" disabled=move || pending.get() class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">
                    {move || if pending.get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn SessionsSection() -> impl IntoView {
    let auth = use_auth();
    let revoke = ServerAction::<RevokeSession>::new();
    let sessions = Resource::new(
        move || (revoke.version().get(), auth.change_password.version().get()),
        |_| my_sessions(),
    );
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading" class="text-lg font-semibold">"Sessions"</h2>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                {move || {
                    sessions
                        .get()
                        .map(|sessions| match sessions {
                            Ok(sessions) => {
                                view! {
                                    <ul class="mt-4 divide-y divide-slate-100 dark:divide-slate-800" data-testid="sessions">
                                        {sessions
                                            .into_iter()
                                            .map(|s| {
                                                let id = s.id.clone();
                                                view! {
                                                    <li class="flex items-center justify-between gap-4 py-3 text-sm" data-testid="session" data-current=s.current.to_string()>
                                                        <div>
                                                            <p class="font-medium">
                                                                {s.user_agent.clone().unwrap_or_else(|| "Unknown browser".to_owned())}
                                                                {s.current.then(|| view! { <span class="ml-2 rounded bg-emerald-100 px-1.5 py-0.5 text-xs text-emerald-800 dark:bg-emerald-900 dark:text-emerald-200">"This session"</span> })}
                                                            </p>
                                                            <p class="text-slate-500">
                                                                {s.ip.clone().unwrap_or_default()} " · signed in " {s.signed_in_at.replace('T', " ").replace('Z', " UTC")}
                                                            </p>
                                                        </div>
                                                        <ActionForm action=revoke>
                                                            <input type="hidden" name="id" value=id />
                                                            <button type="submit" class="rounded-md px-2 py-1 text-rose-700 ring-1 ring-inset ring-rose-200 hover:bg-rose-50 dark:text-rose-300 dark:ring-rose-900 dark:hover:bg-rose-950">
                                                                {if s.current { "Sign out" } else { "Revoke" }}
                                                            </button>
                                                        </ActionForm>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p role="alert" class="mt-4 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn TokensSection() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| my_tokens(),
    );
    let result = Signal::derive(move || create.value().get());
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading" class="text-lg font-semibold">"API tokens"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">
                "For scripts and CI: send one as " <code class="rounded bg-slate-100 px-1 dark:bg-slate-800">"Authorization: Bearer …"</code> " to the REST API."
            </p>
            <ActionForm action=create attr:class="mt-4 flex max-w-md items-end gap-3" attr:data-testid="token-form">
                <div class="flex-1">
                    <Field label="Token name" name="name" required=true error=field_error(result, "name") />
                </div>
                <button type="submit" class="mb-6 rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Create token"</button>
            </ActionForm>
            {move || match result.get() {
                Some(Ok(created)) => Some(view! {
                    <div role="status" class="rounded-md border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-900 dark:bg-amber-950 dark:text-amber-200">
                        <p class="font-medium">"Copy it now: it will not be shown again."</p>
                        <code class="mt-1 block break-all font-mono text-xs" data-testid="new-token">{created.token}</code>
                    </div>
                }),
                _ => None,
            }}
            <Transition fallback=|| ()>
                {move || tokens.get().map(|tokens| match tokens {
                    Ok(tokens) if tokens.is_empty() => view! { <p class="mt-4 text-sm text-slate-500">"No tokens yet."</p> }.into_any(),
                    Ok(tokens) => view! {
                        <ul class="mt-4 divide-y divide-slate-100 dark:divide-slate-800">
                            {tokens.into_iter().map(|t| view! {
                                <li class="flex items-center justify-between gap-4 py-3 text-sm" data-testid="token">
                                    <div>
                                        <p class="font-medium">{t.name.clone()}</p>
                                        <p class="text-slate-500">
                                            <code class="font-mono">{format!("{}…", t.prefix)}</code>
                                            {format!(" · created {}", t.created_at.get(..10).unwrap_or_default())}
                                            {format!(" · {}", t.last_used_at.as_deref().map_or("never used".to_owned(), |u| format!("last used {}", u.replace('T', " ").replace('Z', " UTC"))))}
                                        </p>
                                    </div>
                                    <ActionForm action=revoke>
                                        <input type="hidden" name="id" value=t.id.clone() />
                                        <button type="submit" class="rounded-md px-2 py-1 text-rose-700 ring-1 ring-inset ring-rose-200 hover:bg-rose-50 dark:text-rose-300 dark:ring-rose-900 dark:hover:bg-rose-950">"Revoke"</button>
                                    </ActionForm>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="mt-4 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
