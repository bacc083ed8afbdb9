use leptos::prelude::*;
use leptos_meta::Title;

use crate::features::{
    auth::components::use_auth, deployments::pages::Dashboard, platform::components::StatusPanel,
};

/// The dashboard for a signed-in person; what Slipway is and how it is doing for anyone else.
#[component]
pub fn HomePage() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match auth.user.await {
                    Ok(Some(_)) => view! { <Dashboard /> }.into_any(),
                    _ => view! { <Welcome /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Welcome() -> impl IntoView {
    view! {
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
