use leptos::prelude::*;

/// A coloured dot with a text label for screen readers: colour is never the only signal.
#[component]
pub fn StatusDot(ok: bool) -> impl IntoView {
    let (colour, label) = if ok {
        ("bg-emerald-500", "ok")
    } else {
        ("bg-rose-500", "down")
    };
    view! {
        <span class=format!("inline-block h-2.5 w-2.5 rounded-full {colour}") aria-hidden="true"></span>
        <span class="sr-only">{label}</span>
    }
}
