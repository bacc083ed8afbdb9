use leptos::prelude::*;
use leptos_meta::Title;

use super::require_admin::{AdminNav, RequireAdmin};
use crate::{
    components::{form_error, FormError},
    features::admin::{
        api::{registration, CreateInvite, SetRegistration},
        types::RegistrationPolicy,
    },
};

#[component]
pub fn AdminSettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <RequireAdmin children=|_| view! { <Settings /> } />
    }
}

#[component]
fn Settings() -> impl IntoView {
    let save = ServerAction::<SetRegistration>::new();
    let invite = ServerAction::<CreateInvite>::new();
    let current = Resource::new(move || save.version().get(), |_| registration());
    let invite_result = Signal::derive(move || invite.value().get());
    let card = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";
    let options = [
        (
            RegistrationPolicy::Open,
            "open",
            "Open",
            "Anyone who reaches this server can register.",
        ),
        (
            RegistrationPolicy::Invite,
            "invite",
            "Invite only",
            "Only people with an invite link can register.",
        ),
        (
            RegistrationPolicy::Closed,
            "closed",
            "Closed",
            "Nobody can register; admins create accounts.",
        ),
    ];
    view! {
        <h1 class="text-2xl font-bold tracking-tight">"Administration"</h1>
        <AdminNav />
        <div class="grid gap-8 lg:grid-cols-2">
            <section class=card aria-labelledby="registration-heading">
                <h2 id="registration-heading" class="text-lg font-semibold">"Registration"</h2>
                <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                    {move || current.get().map(|policy| {
                        let policy = policy.ok();
                        view! {
                            <ActionForm action=save attr:class="mt-4 space-y-3" attr:data-testid="registration-form">
                                <fieldset class="space-y-2">
                                    <legend class="sr-only">"Who may register"</legend>
                                    {options.into_iter().map(|(value, name, label, help)| view! {
                                        <label class="flex items-start gap-3 text-sm">
                                            <input type="radio" name="policy" value=name checked=policy == Some(value) />
                                            <span><span class="font-medium">{label}</span><br /><span class="text-slate-500">{help}</span></span>
                                        </label>
                                    }).collect_view()}
                                </fieldset>
                                <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Save"</button>
                                {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400" data-testid="registration-saved">"Saved."</p> })}
                            </ActionForm>
                        }
                    })}
                </Transition>
            </section>
            <section class=card aria-labelledby="invites-heading">
                <h2 id="invites-heading" class="text-lg font-semibold">"Invite links"</h2>
                <p class="mt-1 text-sm text-slate-600 dark:text-slate-400">"Each link registers one account, while registration is invite only or open."</p>
                <ActionForm action=invite attr:class="mt-4 flex items-end gap-3">
                    <label class="text-sm">
                        "Valid for (hours)"
                        <input type="number" name="expires_in_hours" min="1" max="720" value="72" class="mt-1 block w-28 rounded-md border border-slate-300 bg-white px-3 py-1.5 dark:border-slate-700 dark:bg-slate-900" />
                    </label>
                    <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Create link"</button>
                </ActionForm>
                <FormError message=form_error(invite_result) />
                {move || match invite_result.get() {
                    Some(Ok(invite)) => Some(view! {
                        <p role="status" class="mt-3 break-all rounded-md bg-slate-100 px-3 py-2 font-mono text-xs dark:bg-slate-800" data-testid="invite-link">{invite.path}</p>
                        <p class="mt-1 text-xs text-slate-500">{format!("Expires {}. Shown once: copy it now.", invite.expires_at.replace('T', " ").replace('Z', " UTC"))}</p>
                    }),
                    _ => None,
                }}
            </section>
        </div>
    }
}
