use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::{form_error, Field, FormError},
    features::auth::{
        components::{encode_query_value, use_auth, ProviderButtons},
        next::safe_next,
        types::oauth_error_message,
    },
};

#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let next = move || safe_next(&query.read().get("next").unwrap_or_default()).to_owned();
    let result = Signal::derive(move || auth.login.value().get());
    let pending = auth.login.pending();
    // Only a fixed sentence per code is shown: the URL is anyone's to write.
    let oauth_error = move || {
        query
            .read()
            .get("oauth_error")
            .map(|code| oauth_error_message(&code))
    };
    let provider_query = Signal::derive(move || match next().as_str() {
        "/" => String::new(),
        next => format!("next={}", encode_query_value(next)),
    });
    view! {
        <Title text="Sign in" />
        <section class="mx-auto max-w-sm py-8">
            <h1 class="text-2xl font-bold tracking-tight">"Sign in"</h1>
            {move || oauth_error().map(|message| view! {
                <div role="alert" class="mt-6 rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-300" data-testid="oauth-error">
                    {message}
                </div>
            })}
            <ActionForm action=auth.login attr:class="mt-6 space-y-4" attr:data-testid="login-form">
                <input type="hidden" name="next" prop:value=next />
                <FormError message=form_error(result) />
                <Field label="Username or email" name="login" autocomplete="username" required=true />
                <Field label="Password" name="password" kind="password" autocomplete="current-password" required=true />
                <button
                    type="submit"
                    disabled=move || pending.get()
                    class="w-full rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
                >
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <ProviderButtons query=provider_query />
            <p class="mt-6 text-sm text-slate-600 dark:text-slate-400">
                "No account? " <A href="/register" attr:class="font-medium text-indigo-600 dark:text-indigo-400">"Register"</A>
            </p>
        </section>
    }
}
