use leptos::prelude::*;

/// A button that puts `text` on the clipboard and says so.
#[component]
pub fn CopyButton(
    #[prop(into)] text: String,
    #[prop(optional)] testid: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button type="button" data-testid=testid
            class="shrink-0 rounded-md px-2 py-1 text-xs ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800"
            on:click=move |_| {
                write_clipboard(&text);
                copied.set(true);
            }>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// `navigator.clipboard.writeText` in the browser; nothing where there is no clipboard.
fn write_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    {
        #[wasm_bindgen::prelude::wasm_bindgen]
        extern "C" {
            #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText)]
            fn write_text(text: &str) -> wasm_bindgen::JsValue;
        }
        let _ = write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
