//! The account page's "Sign-in methods": linked providers, linking and unlinking, confirming
//! who you are, and a first password for accounts made through a provider.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{field_error, form_error, Field, FormError},
    features::auth::{
        api::{sign_in_methods, Reauthenticate, SetPassword, UnlinkIdentity},
        components::{start_path, PasswordRules, ProviderMark},
        types::{oauth_error_message, Me, SignInMethods},
    },
};

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn SignInMethodsSection(me: Me) -> impl IntoView {
    let unlink = ServerAction::<UnlinkIdentity>::new();
    let confirm = ServerAction::<Reauthenticate>::new();
    let set_password = ServerAction::<SetPassword>::new();
    let methods = Resource::new(
        move || {
            (
                unlink.version().get(),
                confirm.version().get(),
                set_password.version().get(),
            )
        },
        |_| sign_in_methods(),
    );
    let query = use_query_map();
    let oauth_error = move || {
        query
            .read()
            .get("oauth_error")
            .map(|code| oauth_error_message(&code))
    };
    let unlink_result = Signal::derive(move || unlink.value().get());
    view! {
        <section class=CARD aria-labelledby="methods-heading" data-testid="sign-in-methods">
            <h2 id="methods-heading" class="text-lg font-semibold">"Sign-in methods"</h2>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Providers you can sign in with. Changing these needs a sign-in or confirmation from the last 10 minutes."</p>
            {move || oauth_error().map(|message| view! {
                <div role="alert" class="mt-4 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-300" data-testid="oauth-error">{message}</div>
            })}
            <div class="mt-4"><FormError message=form_error(unlink_result) /></div>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                {move || methods.get().map(|methods| match methods {
                    Ok(methods) => view! { <Methods methods unlink confirm set_password me=me.clone() /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="mt-4 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Methods(
    methods: SignInMethods,
    unlink: ServerAction<UnlinkIdentity>,
    confirm: ServerAction<Reauthenticate>,
    set_password: ServerAction<SetPassword>,
    me: Me,
) -> impl IntoView {
    let only_way = !methods.has_password && methods.identities.len() == 1;
    let confirmed = methods.recently_confirmed;
    let linked = methods.identities.clone();
    view! {
        {if methods.identities.is_empty() {
            view! { <p class="mt-4 text-sm text-slate-500" data-testid="no-identities">"No provider is linked."</p> }.into_any()
        } else {
            view! {
                <ul class="mt-4 divide-y divide-slate-100 dark:divide-slate-800">
                    {methods.identities.into_iter().map(|i| {
                        let who = i.display_name.clone().or(i.email.clone()).unwrap_or_default();
                        let (slug, slug_attr) = (i.provider.clone(), i.provider.clone());
                        view! {
                            <li class="flex items-center justify-between gap-4 py-3 text-sm" data-testid="identity" data-provider=slug_attr>
                                <div class="flex min-w-0 items-center gap-3">
                                    {match i.avatar_url.clone() {
                                        Some(url) => view! { <img src=url alt="" class="size-8 rounded-full" referrerpolicy="no-referrer" /> }.into_any(),
                                        None => view! { <ProviderMark kind=i.kind.clone() name=i.provider_name.clone() /> }.into_any(),
                                    }}
                                    <div class="min-w-0">
                                        <p class="font-medium">{i.provider_name.clone()}</p>
                                        <p class="truncate text-slate-500">{who} {i.email.clone().map(|e| format!(" · {e}"))}</p>
                                    </div>
                                </div>
                                <ActionForm action=unlink>
                                    <input type="hidden" name="slug" value=slug />
                                    <button type="submit" disabled=only_way || !confirmed
                                        title=if only_way { "Your only way to sign in: set a password or link another provider first." } else { "" }
                                        class="rounded-md px-2 py-1 text-rose-700 ring-1 ring-inset ring-rose-200 hover:bg-rose-50 disabled:cursor-not-allowed disabled:opacity-50 dark:text-rose-300 dark:ring-rose-900 dark:hover:bg-rose-950">
                                        "Unlink"
                                    </button>
                                </ActionForm>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!confirmed).then(|| view! { <Confirm has_password=methods.has_password linked=linked.clone() confirm /> })}
        {(!methods.available.is_empty()).then(|| view! {
            <div class="mt-4 flex flex-wrap gap-2" data-testid="link-providers">
                {methods.available.into_iter().map(|p| {
                    let href = start_path(&p.slug, "intent=link");
                    let class = "inline-flex items-center gap-2 rounded-md bg-white px-3 py-1.5 text-sm font-medium ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:bg-slate-800 dark:ring-slate-700 dark:hover:bg-slate-700";
                    if confirmed {
                        view! {
                            <a href=href rel="external" class=class data-provider=p.slug.clone()>
                                <ProviderMark kind=p.kind.clone() name=p.display_name.clone() />
                                {format!("Link {}", p.display_name)}
                            </a>
                        }.into_any()
                    } else {
                        view! {
                            <span class=format!("{class} opacity-50") aria-disabled="true" title="Confirm it is you first">
                                <ProviderMark kind=p.kind.clone() name=p.display_name.clone() />
                                {format!("Link {}", p.display_name)}
                            </span>
                        }.into_any()
                    }
                }).collect_view()}
            </div>
        })}
        {(!methods.has_password).then(|| view! { <FirstPassword me set_password confirmed /> })}
    }
}

/// Proving who you are again: the password, or a linked provider for accounts without one.
#[component]
fn Confirm(
    has_password: bool,
    linked: Vec<crate::features::auth::types::LinkedIdentity>,
    confirm: ServerAction<Reauthenticate>,
) -> impl IntoView {
    let result = Signal::derive(move || confirm.value().get());
    view! {
        <div class="mt-4 rounded-md border border-amber-200 bg-amber-50 p-4 text-sm dark:border-amber-900 dark:bg-amber-950" data-testid="confirm-identity">
            <p class="font-medium text-amber-900 dark:text-amber-200">"Confirm it is you to change how you sign in."</p>
            {if has_password {
                view! {
                    <ActionForm action=confirm attr:class="mt-3 flex max-w-md items-start gap-3">
                        <div class="flex-1">
                            <Field label="Your password" name="password" kind="password" autocomplete="current-password" required=true error=field_error(result, "password") />
                        </div>
                        <button type="submit" class="mt-6 rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Confirm"</button>
                    </ActionForm>
                    <FormError message=form_error(result) />
                }.into_any()
            } else {
                view! {
                    <div class="mt-3 flex flex-wrap gap-2">
                        {linked.into_iter().map(|i| view! {
                            <a href=start_path(&i.provider, "intent=reauth") rel="external" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
                                {format!("Confirm with {}", i.provider_name)}
                            </a>
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn FirstPassword(
    me: Me,
    set_password: ServerAction<SetPassword>,
    confirmed: bool,
) -> impl IntoView {
    let result = Signal::derive(move || set_password.value().get());
    let password = RwSignal::new(String::new());
    let identities = Signal::derive(move || vec![me.username.clone(), me.email.clone()]);
    view! {
        <div class="mt-6 border-t border-slate-100 pt-4 dark:border-slate-800">
            <h3 class="font-medium">"Set a password"</h3>
            <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Your account has no password yet: add one to sign in without a provider."</p>
            <ActionForm action=set_password attr:class="mt-3 max-w-sm space-y-4" attr:data-testid="set-password-form">
                <FormError message=form_error(result) />
                <Field label="New password" name="new_password" kind="password" autocomplete="new-password" required=true error=field_error(result, "new_password") on_input=Callback::new(move |v| password.set(v))>
                    <PasswordRules password=password identities=identities />
                </Field>
                <Field label="Confirm new password" name="confirm" kind="password" autocomplete="new-password" required=true error=field_error(result, "confirm") />
                <button type="submit" disabled=!confirmed class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60">"Set password"</button>
            </ActionForm>
        </div>
    }
}
