use leptos::prelude::*;

/// The password rules, ticked off while the person types. The server checks them again,
/// plus the common-password list, which is too large to ship to the browser.
#[component]
pub fn PasswordRules(
    #[prop(into)] password: Signal<String>,
    #[prop(into)] identities: Signal<Vec<String>>,
) -> impl IntoView {
    let chars = move || password.with(|p| p.chars().count());
    let rules = move || {
        let n = chars();
        let same = password.with(|p| {
            !p.is_empty()
                && identities.with(|ids| {
                    ids.iter()
                        .any(|id| !id.is_empty() && id.to_lowercase() == p.to_lowercase())
                })
        });
        vec![
            ("At least 12 characters", n >= 12),
            ("At most 128 characters", n <= 128),
            ("Not your username or email", !same),
        ]
    };
    view! {
        <ul class="space-y-0.5 text-xs" aria-live="polite" data-testid="password-rules">
            {move || {
                rules()
                    .into_iter()
                    .map(|(text, ok)| {
                        view! {
                            <li
                                data-ok=ok.to_string()
                                class=if ok {
                                    "text-emerald-700 dark:text-emerald-400"
                                } else {
                                    "text-slate-500"
                                }
                            >
                                {if ok { "✓ " } else { "○ " }}
                                {text}
                            </li>
                        }
                    })
                    .collect_view()
            }}
            <li class="text-slate-500">{move || format!("{} characters", chars())}</li>
        </ul>
    }
}
