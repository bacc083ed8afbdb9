use leptos::prelude::*;

use crate::{
    components::{use_toasts, Button, ButtonKind},
    features::deployments::{api::DeleteDeployment, types::Deployment},
};

/// Asks before deleting, naming the deployment and everything that goes with it.
#[component]
pub fn DeleteDialog(
    /// The deployment to delete; `None` keeps the dialog closed.
    target: RwSignal<Option<Deployment>>,
    /// Called once the delete was accepted.
    #[prop(optional)]
    on_deleted: Option<Callback<String>>,
) -> impl IntoView {
    let delete = ServerAction::<DeleteDeployment>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            match result {
                Ok(()) => {
                    if let Some(d) = target.get_untracked() {
                        toasts.ok(format!("Deleting {}", d.name));
                        if let Some(on_deleted) = on_deleted {
                            on_deleted.run(d.id);
                        }
                    }
                    target.set(None);
                }
                Err(e) => toasts.error(e.to_string()),
            }
        }
    });
    view! {
        <Show when=move || target.with(Option::is_some)>
            {move || target.get().map(|d| {
                let id = d.id.clone();
                // Focus moves into the dialog, so Escape and Tab work from the keyboard at once.
                let panel = NodeRef::<leptos::html::Div>::new();
                Effect::new(move |_| {
                    if let Some(panel) = panel.get() {
                        let _ = panel.focus();
                    }
                });
                view! {
                    <div class="fixed inset-0 z-40 grid place-items-center bg-slate-950/50 p-4" on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            target.set(None);
                        }
                    }>
                        <div node_ref=panel tabindex="-1" role="dialog" aria-modal="true" aria-labelledby="delete-title" class="w-full max-w-md rounded-lg bg-white p-6 shadow-xl outline-none dark:bg-slate-900" data-testid="delete-dialog">
                            <h2 id="delete-title" class="text-lg font-semibold">"Delete " {d.name.clone()} "?"</h2>
                            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                                "This removes " <strong>{d.subdomain.clone()}</strong> " for good: its containers and images, build logs and release history, environment variables, the nginx site"
                                {d.port.map(|p| format!(", port {p}"))}
                                " and its Cloudflare route if it has one. "
                                <a href=d.url.clone() class="underline">{d.url.clone()}</a>
                                " stops answering."
                            </p>
                            <div class="mt-6 flex justify-end gap-2">
                                <Button kind=ButtonKind::Secondary on_click=Box::new(move || target.set(None))>"Cancel"</Button>
                                <Button
                                    kind=ButtonKind::Danger
                                    testid="confirm-delete"
                                    pending=delete.pending()
                                    on_click=Box::new(move || {
                                        delete.dispatch(DeleteDeployment { id: id.clone() });
                                    })
                                >
                                    "Delete deployment"
                                </Button>
                            </div>
                        </div>
                    </div>
                }
            })}
        </Show>
    }
}
