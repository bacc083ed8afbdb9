use leptos::prelude::*;
use leptos_meta::Title;

use super::set_http_status;

/// What a page shows when rendering it failed. The messages come from [`crate::error::AppError`],
/// which never carries internal detail.
#[component]
pub fn ErrorPage(errors: ArcRwSignal<Errors>) -> impl IntoView {
    set_http_status(500);
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, e)| view! { <li>{e.to_string()}</li> })
            .collect_view()
    };
    view! {
        <Title text="Something went wrong" />
        <section class="mx-auto max-w-lg py-16 text-center" role="alert" data-testid="error-page">
            <p class="text-sm font-semibold text-rose-600 dark:text-rose-400">"500"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">"Something went wrong"</h1>
            <ul class="mt-4 space-y-1 text-slate-600 dark:text-slate-400">{messages}</ul>
            <a href="/" class="mt-8 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500">
                "Back to the overview"
            </a>
        </section>
    }
}
