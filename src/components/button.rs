use leptos::prelude::*;

#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub enum ButtonKind {
    #[default]
    Primary,
    Secondary,
    Danger,
}

/// A button that shows its pending state: disabled, with a spinner and `aria-busy`, while
/// the work it started runs.
#[component]
pub fn Button(
    #[prop(optional)] kind: ButtonKind,
    #[prop(into, optional)] pending: Signal<bool>,
    #[prop(into, optional)] disabled: Signal<bool>,
    #[prop(optional, into)] testid: Option<&'static str>,
    #[prop(optional)] on_click: Option<Box<dyn Fn() + Send + Sync>>,
    children: Children,
) -> impl IntoView {
    let colours = match kind {
        ButtonKind::Primary => "bg-indigo-600 text-white hover:bg-indigo-500 focus-visible:outline-indigo-600",
        ButtonKind::Secondary => "bg-white text-slate-900 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:bg-slate-800 dark:text-slate-100 dark:ring-slate-700 dark:hover:bg-slate-700",
        ButtonKind::Danger => "bg-rose-600 text-white hover:bg-rose-500 focus-visible:outline-rose-600",
    };
    view! {
        <button
            type="button"
            data-testid=testid
            class=format!("inline-flex items-center gap-2 rounded-md px-3 py-1.5 text-sm font-medium shadow-sm focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 disabled:cursor-not-allowed disabled:opacity-60 {colours}")
            disabled=move || pending.get() || disabled.get()
            aria-busy=move || pending.get().to_string()
            on:click=move |_| {
                if let Some(on_click) = &on_click {
                    on_click();
                }
            }
        >
            <Show when=move || pending.get()>
                <span aria-hidden="true" class="h-3.5 w-3.5 animate-spin rounded-full border-2 border-current border-r-transparent"></span>
            </Show>
            {children()}
        </button>
    }
}
