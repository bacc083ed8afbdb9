use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

use super::set_http_status;

#[component]
pub fn NotFound() -> impl IntoView {
    set_http_status(404);
    let path = use_location().pathname;
    view! {
        <Title text="Page not found" />
        <section class="mx-auto max-w-lg py-16 text-center" data-testid="not-found">
            <p class="text-sm font-semibold text-indigo-600 dark:text-indigo-400">"404"</p>
            <h1 class="mt-2 text-3xl font-bold tracking-tight">"Page not found"</h1>
            <p class="mt-4 text-slate-600 dark:text-slate-400">
                "Nothing lives at " <code class="rounded bg-slate-100 px-1 dark:bg-slate-800">{path}</code> "."
            </p>
            <a href="/" class="mt-8 inline-block rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500">
                "Back to the overview"
            </a>
        </section>
    }
}
