use leptos::prelude::*;
use leptos_meta::Title;

use crate::features::platform::components::StatusPanel;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="" />
        <div class="space-y-8">
            <header>
                <h1 class="text-3xl font-bold tracking-tight">"Ship it from a Git URL"</h1>
                <p class="mt-2 max-w-2xl text-slate-600 dark:text-slate-400">
                    "Slipway clones your repository, builds its Docker image, runs it on this server and routes a subdomain to it."
                </p>
            </header>
            <StatusPanel />
        </div>
    }
}
