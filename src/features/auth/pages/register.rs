use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::{field_error, form_error, Field, FormError},
    features::auth::{
        api::get_registration_state,
        components::{encode_query_value, use_auth, PasswordRules, ProviderButtons},
    },
};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let state = Resource::new(|| (), |_| get_registration_state());
    let query = use_query_map();
    let invite = move || query.read().get("invite");
    view! {
        <Title text="Register" />
        <section class="mx-auto max-w-sm py-8">
            <h1 class="text-2xl font-bold tracking-tight">"Create your account"</h1>
            <Transition fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
                {move || {
                    state
                        .get()
                        .map(|state| match state {
                            Ok(state) if state.open || (state.invite_only && invite().is_some()) => {
                                // The first account is the admin, made with the setup token only.
                                let providers = (!state.first_account).then(|| {
                                    let query = Signal::derive(move || {
                                        invite().map(|i| format!("invite={}", encode_query_value(&i))).unwrap_or_default()
                                    });
                                    view! { <ProviderButtons query /> }
                                });
                                view! { <RegisterForm first_account=state.first_account invite=invite() /> {providers} }.into_any()
                            }
                            Ok(state) => {
                                let why = if state.invite_only {
                                    "Registration needs an invite link from an admin."
                                } else {
                                    "Registration is closed on this server. Ask an admin for an account."
                                };
                                view! {
                                    <p class="mt-6 text-slate-600 dark:text-slate-400" data-testid="registration-closed">{why}</p>
                                }
                                    .into_any()
                            }
                            Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "Already have an account? " <A href="/login" attr:class="font-medium text-indigo-600 dark:text-indigo-400">"Sign in"</A>
            </p>
        </section>
    }
}

#[component]
fn RegisterForm(first_account: bool, invite: Option<String>) -> impl IntoView {
    let auth = use_auth();
    let result = Signal::derive(move || auth.register.value().get());
    let pending = auth.register.pending();
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let identities = Signal::derive(move || vec![username.get(), email.get()]);
    view! {
        <ActionForm action=auth.register attr:class="mt-6 space-y-4" attr:data-testid="register-form">
            {first_account
                .then(|| {
                    view! {
                        <p class="rounded-md bg-indigo-50 px-3 py-2 text-sm text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200">
                            "This is the first account: it becomes the admin. Paste the setup token Slipway printed when it started (also in DATA_DIR/setup-token)."
                        </p>
                        <Field label="Setup token" name="setup_token" autocomplete="off" required=true error=field_error(result, "setup_token") />
                    }
                })}
            <input type="hidden" name="invite" prop:value=invite.unwrap_or_default() />
            <FormError message=form_error(result) />
            <Field label="Username" name="username" autocomplete="username" required=true error=field_error(result, "username") on_input=Callback::new(move |v| username.set(v)) />
            <Field label="Email" name="email" kind="email" autocomplete="email" required=true error=field_error(result, "email") on_input=Callback::new(move |v| email.set(v)) />
            <Field label="Password" name="password" kind="password" autocomplete="new-password" required=true error=field_error(result, "password") on_input=Callback::new(move |v| password.set(v))>
                <PasswordRules password=password identities=identities />
            </Field>
            <Field label="Confirm password" name="password_confirm" kind="password" autocomplete="new-password" required=true error=field_error(result, "password_confirm") />
            <button
                type="submit"
                disabled=move || pending.get()
                class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
            >
                {move || if pending.get() { "Creating…" } else { "Create account" }}
            </button>
        </ActionForm>
    }
}
