use std::time::Duration;

use leptos::prelude::*;

/// Short messages about the outcome of an action, in a live region at the corner.
#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<(u64, String, bool)>>);

impl Toasts {
    pub fn ok(&self, message: impl Into<String>) {
        self.push(message.into(), false);
    }

    pub fn error(&self, message: impl Into<String>) {
        self.push(message.into(), true);
    }

    fn push(&self, message: String, error: bool) {
        let list = self.0;
        let id = list.with_untracked(|l| l.iter().map(|t| t.0).max().unwrap_or(0) + 1);
        list.update(|l| l.push((id, message, error)));
        set_timeout(
            move || list.update(|l| l.retain(|t| t.0 != id)),
            Duration::from_secs(6),
        );
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts(RwSignal::new(Vec::new()));
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(provide_toasts)
}

#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div aria-live="polite" role="status" class="pointer-events-none fixed bottom-4 right-4 z-50 flex w-80 max-w-[calc(100vw-2rem)] flex-col gap-2">
            <For each=move || toasts.0.get() key=|t| t.0 let:toast>
                <div
                    class=if toast.2 {
                        "pointer-events-auto flex items-start gap-2 rounded-md bg-rose-600 px-3 py-2 text-sm text-white shadow-lg"
                    } else {
                        "pointer-events-auto flex items-start gap-2 rounded-md bg-slate-900 px-3 py-2 text-sm text-white shadow-lg dark:bg-slate-700"
                    }
                    data-testid="toast"
                >
                    <span class="flex-1">{toast.1.clone()}</span>
                    <button type="button" aria-label="Dismiss" class="opacity-70 hover:opacity-100"
                        on:click=move |_| toasts.0.update(|l| l.retain(|t| t.0 != toast.0))>"×"</button>
                </div>
            </For>
        </div>
    }
}
