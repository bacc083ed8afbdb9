use leptos::prelude::*;

use crate::features::deployments::types::DeploymentState;

/// The state in words and colour, with a spinner while something is happening.
#[component]
pub fn StateBadge(#[prop(into)] state: Signal<DeploymentState>) -> impl IntoView {
    let colours = move || match state.get() {
        DeploymentState::Running => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300"
        }
        DeploymentState::Failed => "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-300",
        DeploymentState::Stopped => {
            "bg-slate-200 text-slate-700 dark:bg-slate-800 dark:text-slate-300"
        }
        DeploymentState::Deleting => {
            "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300"
        }
        _ => "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
    };
    let busy = move || state.get().is_in_progress() || state.get() == DeploymentState::Deleting;
    view! {
        <span
            class=move || format!("inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium {}", colours())
            data-testid="state"
            data-state=move || state.get().as_str()
        >
            <Show when=busy>
                <span aria-hidden="true" class="h-3 w-3 animate-spin rounded-full border-2 border-current border-r-transparent"></span>
            </Show>
            {move || label(state.get())}
        </span>
    }
}

pub fn label(state: DeploymentState) -> &'static str {
    match state {
        DeploymentState::Queued => "Queued",
        DeploymentState::Cloning => "Cloning",
        DeploymentState::Building => "Building",
        DeploymentState::Starting => "Starting",
        DeploymentState::CheckingHealth => "Checking health",
        DeploymentState::Running => "Running",
        DeploymentState::Failed => "Failed",
        DeploymentState::Stopped => "Stopped",
        DeploymentState::Deleting => "Deleting",
    }
}
