use leptos::prelude::*;

use crate::error::AppError;

/// A labelled input with the server's message for it underneath.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] required: bool,
    #[prop(into, optional)] error: Signal<Option<String>>,
    #[prop(into, optional)] value: Option<Signal<String>>,
    /// Called with the input's text on every keystroke.
    #[prop(optional)]
    on_input: Option<Callback<String>>,
    /// Extra content under the input, such as live rules.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div class="space-y-1">
            <label for=id.clone() class="block text-sm font-medium">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                prop:value=move || value.map(|v| v.get()).unwrap_or_default()
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                on:input=move |ev| {
                    if let Some(on_input) = on_input {
                        on_input.run(event_target_value(&ev));
                    }
                }
                class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 aria-[invalid=true]:border-rose-500 dark:border-slate-700 dark:bg-slate-900"
            />
            {children.map(|c| c())}
            <p id=error_id class="min-h-5 text-sm text-rose-600 dark:text-rose-400" data-error-for=name>
                {move || error.get()}
            </p>
        </div>
    }
}

/// The message for `field` in a failed action's validation error.
pub fn field_error<T>(
    result: Signal<Option<Result<T, AppError>>>,
    field: &'static str,
) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || match result.get() {
        Some(Err(AppError::Validation { fields, .. })) => fields.get(field).cloned(),
        _ => None,
    })
}

/// An error that belongs to the whole form (anything but field messages).
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <div role="alert" class="rounded-md border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-700 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-300" data-testid="form-error">
                {move || message.get()}
            </div>
        </Show>
    }
}

/// The form-level message of a failed action: its text, unless it is only field errors.
pub fn form_error<T>(result: Signal<Option<Result<T, AppError>>>) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
{
    Signal::derive(move || match result.get() {
        Some(Err(AppError::Validation { .. })) | Some(Ok(_)) | None => None,
        Some(Err(e)) => Some(e.to_string()),
    })
}
