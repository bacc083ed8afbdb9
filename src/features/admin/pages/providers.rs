//! `/admin/providers`: sign-in providers, with presets, the redirect URI to register, on/off,
//! "Test connection", editing and a delete that says what happens to linked accounts.

use leptos::prelude::*;
use leptos_meta::Title;

use super::require_admin::{AdminNav, RequireAdmin};
use crate::{
    components::{field_error, form_error, use_toasts, Button, ButtonKind, CopyButton, FormError},
    features::{
        admin::{
            api::{
                provider_presets, providers, DeleteProvider, SaveProvider, SetProviderEnabled,
                TestProvider,
            },
            types::{ProviderInfo, ProviderPreset},
        },
        auth::components::ProviderMark,
    },
};

const CARD: &str = "rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900";
const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 aria-[invalid=true]:border-rose-500 dark:border-slate-700 dark:bg-slate-900";

#[component]
pub fn AdminProvidersPage() -> impl IntoView {
    view! {
        <Title text="Sign-in providers" />
        <RequireAdmin children=|_| view! { <Providers /> } />
    }
}

/// What the list, the form and the dialog share.
#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveProvider>,
    toggle: ServerAction<SetProviderEnabled>,
    delete: ServerAction<DeleteProvider>,
    /// The provider being edited in the form (`None`: adding one).
    editing: RwSignal<Option<ProviderInfo>>,
    deleting: RwSignal<Option<ProviderInfo>>,
}

#[component]
fn Providers() -> impl IntoView {
    let actions = Actions {
        save: ServerAction::new(),
        toggle: ServerAction::new(),
        delete: ServerAction::new(),
        editing: RwSignal::new(None),
        deleting: RwSignal::new(None),
    };
    let list = Resource::new(
        move || {
            (
                actions.save.version().get(),
                actions.toggle.version().get(),
                actions.delete.version().get(),
            )
        },
        |_| providers(),
    );
    let toggle_error = form_error(Signal::derive(move || actions.toggle.value().get()));
    view! {
        <h1 class="text-2xl font-bold tracking-tight">"Administration"</h1>
        <AdminNav />
        <div class="grid gap-8 lg:grid-cols-5">
            <section class="space-y-4 lg:col-span-3" aria-labelledby="providers-heading">
                <h2 id="providers-heading" class="text-lg font-semibold">"Sign-in providers"</h2>
                <FormError message=toggle_error />
                <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                    {move || list.get().map(|list| match list {
                        Ok(list) if list.is_empty() => view! {
                            <p class="text-sm text-slate-500" data-testid="no-providers">"No provider yet: add one with the form, or set GOOGLE_*, GITHUB_* or DISCORD_* in the environment."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="space-y-4">
                                {list.into_iter().map(|p| view! { <ProviderCard provider=p actions /> }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                    })}
                </Transition>
            </section>
            <section class="lg:col-span-2" aria-labelledby="provider-form-heading">
                <ProviderForm actions />
            </section>
        </div>
        <DeleteProviderDialog actions />
    }
}

#[component]
fn ProviderCard(provider: ProviderInfo, actions: Actions) -> impl IntoView {
    // Each card tests on its own, so a result shows next to the provider it is about.
    let test = ServerAction::<TestProvider>::new();
    let slug = provider.slug.clone();
    let enabled = provider.enabled;
    let from_env = provider.source == "env";
    let oidc = matches!(provider.kind.as_str(), "google" | "oidc");
    let (edit_target, delete_target) = (provider.clone(), provider.clone());
    let (toggle_slug, test_slug) = (slug.clone(), slug.clone());
    let field_id = format!("redirect-{slug}");
    view! {
        <li class=CARD data-testid="provider" data-slug=slug.clone()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="flex items-center gap-3">
                    <ProviderMark kind=provider.kind.clone() name=provider.display_name.clone() />
                    <div>
                        <p class="font-medium">{provider.display_name.clone()}</p>
                        <p class="text-xs text-slate-500">
                            <code>{slug.clone()}</code> " · " {provider.kind.clone()}
                            {from_env.then_some(" · from the environment")}
                            {format!(" · {} linked account(s)", provider.linked_accounts)}
                        </p>
                    </div>
                </div>
                <span class=if enabled { "rounded-full bg-emerald-100 px-2 py-0.5 text-xs font-medium text-emerald-800 dark:bg-emerald-900 dark:text-emerald-200" } else { "rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 dark:bg-slate-800 dark:text-slate-300" } data-testid="provider-state">
                    {if enabled { "On" } else { "Off" }}
                </span>
            </div>
            <label class="mt-4 block text-xs font-medium text-slate-500" for=field_id.clone()>"Redirect URI to register at the provider"</label>
            <div class="mt-1 flex gap-2">
                <input id=field_id readonly value=provider.redirect_uri.clone() data-testid="redirect-uri"
                    class="block w-full rounded-md border border-slate-300 bg-slate-50 px-2 py-1 font-mono text-xs dark:border-slate-700 dark:bg-slate-950"
                    on:focus=|ev| { event_target::<leptos::web_sys::HtmlInputElement>(&ev).select(); } />
                <CopyButton text=provider.redirect_uri.clone() />
            </div>
            <div class="mt-4 flex flex-wrap gap-2">
                <Button kind=ButtonKind::Secondary testid="toggle-provider" pending=actions.toggle.pending() on_click=Box::new(move || {
                    actions.toggle.dispatch(SetProviderEnabled { slug: toggle_slug.clone(), enabled: !enabled });
                })>
                    {if enabled { "Switch off" } else { "Switch on" }}
                </Button>
                <Button kind=ButtonKind::Secondary testid="test-provider" pending=test.pending() on_click=Box::new(move || {
                    test.dispatch(TestProvider { slug: test_slug.clone() });
                })>
                    {if oidc { "Test discovery" } else { "Test connection" }}
                </Button>
                {(!from_env).then(|| view! {
                    <Button kind=ButtonKind::Secondary testid="edit-provider" on_click=Box::new(move || actions.editing.set(Some(edit_target.clone())))>"Edit"</Button>
                    <Button kind=ButtonKind::Danger testid="delete-provider" on_click=Box::new(move || actions.deleting.set(Some(delete_target.clone())))>"Delete"</Button>
                })}
            </div>
            {move || test.value().get().map(|r| match r {
                Ok(r) => view! {
                    <p role="status" data-testid="test-result" data-ok=r.ok.to_string() class=if r.ok { "mt-3 text-sm text-emerald-700 dark:text-emerald-400" } else { "mt-3 text-sm text-rose-600 dark:text-rose-400" }>
                        {r.message.clone()}
                        {r.issuer.clone().map(|i| format!(" Issuer: {i}."))}
                    </p>
                }.into_any(),
                Err(e) => view! { <p role="alert" class="mt-3 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
            })}
        </li>
    }
}

/// The form's fields, filled from a preset (adding) or from the provider (editing).
#[derive(Clone, Copy)]
struct Draft {
    kind: RwSignal<String>,
    slug: RwSignal<String>,
    display_name: RwSignal<String>,
    client_id: RwSignal<String>,
    discovery_url: RwSignal<String>,
    authorize_url: RwSignal<String>,
    token_url: RwSignal<String>,
    userinfo_url: RwSignal<String>,
    revocation_url: RwSignal<String>,
    scopes: RwSignal<String>,
    field_map: RwSignal<String>,
}

impl Draft {
    fn new() -> Self {
        let s = || RwSignal::new(String::new());
        Self {
            kind: RwSignal::new("github".to_owned()),
            slug: s(),
            display_name: s(),
            client_id: s(),
            discovery_url: s(),
            authorize_url: s(),
            token_url: s(),
            userinfo_url: s(),
            revocation_url: s(),
            scopes: s(),
            field_map: s(),
        }
    }

    fn fill_from_preset(&self, p: &ProviderPreset) {
        self.kind.set(p.kind.clone());
        self.slug.set(p.slug.clone());
        self.display_name.set(p.display_name.clone());
        self.client_id.set(String::new());
        self.fill_endpoints(
            &p.discovery_url,
            &p.authorize_url,
            &p.token_url,
            &p.userinfo_url,
            &p.revocation_url,
        );
        self.scopes.set(p.scopes.join(" "));
        self.field_map.set(map_text(&p.field_map));
    }

    fn fill_from_provider(&self, p: &ProviderInfo) {
        self.kind.set(p.kind.clone());
        self.slug.set(p.slug.clone());
        self.display_name.set(p.display_name.clone());
        self.client_id.set(p.client_id.clone());
        self.fill_endpoints(
            &p.discovery_url,
            &p.authorize_url,
            &p.token_url,
            &p.userinfo_url,
            &p.revocation_url,
        );
        self.scopes.set(p.scopes.join(" "));
        self.field_map.set(map_text(&p.field_map));
    }

    fn fill_endpoints(
        &self,
        discovery: &Option<String>,
        authorize: &Option<String>,
        token: &Option<String>,
        userinfo: &Option<String>,
        revocation: &Option<String>,
    ) {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        self.discovery_url.set(text(discovery));
        self.authorize_url.set(text(authorize));
        self.token_url.set(text(token));
        self.userinfo_url.set(text(userinfo));
        self.revocation_url.set(text(revocation));
    }
}

fn map_text(map: &serde_json::Value) -> String {
    if map.as_object().is_some_and(|m| !m.is_empty()) {
        serde_json::to_string_pretty(map).unwrap_or_default()
    } else {
        String::new()
    }
}

#[component]
fn ProviderForm(actions: Actions) -> impl IntoView {
    let presets = Resource::new(|| (), |_| provider_presets());
    // The form renders once the presets are here, the same on the server and in the browser.
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || presets.get().map(|presets| match presets {
                Ok(presets) => view! { <ProviderFormFields actions presets /> }.into_any(),
                Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn ProviderFormFields(actions: Actions, presets: Vec<ProviderPreset>) -> impl IntoView {
    let presets = StoredValue::new(presets);
    let draft = Draft::new();
    let result = Signal::derive(move || actions.save.value().get());
    let toasts = use_toasts();
    let preset_of =
        move |kind: &str| presets.with_value(|list| list.iter().find(|p| p.kind == kind).cloned());
    match actions.editing.get_untracked() {
        Some(p) => draft.fill_from_provider(&p),
        None => {
            if let Some(p) = preset_of(&draft.kind.get_untracked()) {
                draft.fill_from_preset(&p);
            }
        }
    }
    Effect::new(move |_| {
        if let Some(p) = actions.editing.get() {
            draft.fill_from_provider(&p);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(saved)) = actions.save.value().get() {
            toasts.ok(format!("Saved {}", saved.display_name));
            actions.editing.set(None);
        }
    });
    let redirect_preview = move || {
        let kind = draft.kind.get();
        let slug = draft.slug.get();
        preset_of(&kind).map(|p| {
            p.redirect_uri.replace(
                &format!("/auth/{}/callback", p.slug),
                &format!("/auth/{slug}/callback"),
            )
        })
    };
    let editing = move || actions.editing.get().is_some();
    let oidc = move || matches!(draft.kind.get().as_str(), "google" | "oidc");
    let generic = move || draft.kind.get() == "oauth2";
    view! {
        <div class=CARD>
            <h2 id="provider-form-heading" class="text-lg font-semibold">
                {move || if editing() { "Edit provider" } else { "Add a provider" }}
            </h2>
            <ActionForm action=actions.save attr:class="mt-4 space-y-4" attr:data-testid="provider-form">
                <input type="hidden" name="editing" prop:value=move || actions.editing.get().map(|p| p.slug).unwrap_or_default() />
                <FormError message=form_error(result) />
                <label class="block text-sm font-medium">
                    "Kind"
                    <select name="form[kind]" class=INPUT disabled=editing prop:value=move || draft.kind.get() on:change=move |ev| {
                        let kind = event_target_value(&ev);
                        draft.kind.set(kind.clone());
                        if let Some(p) = preset_of(&kind) {
                            draft.fill_from_preset(&p);
                        }
                    }>
                        <option value="github">"GitHub"</option>
                        <option value="google">"Google"</option>
                        <option value="discord">"Discord"</option>
                        <option value="oidc">"OpenID Connect (any issuer)"</option>
                        <option value="oauth2">"OAuth 2.0 (explicit endpoints)"</option>
                    </select>
                </label>
                {move || preset_of(&draft.kind.get()).map(|p| view! { <p class="text-xs text-slate-500">{p.help}</p> })}
                <DraftField label="Slug (names its URLs)" name="slug" value=draft.slug result disabled=Signal::derive(editing) />
                {move || redirect_preview().map(|uri| view! {
                    <p class="break-all text-xs text-slate-500">"Redirect URI: " <code data-testid="redirect-preview">{uri}</code></p>
                })}
                <DraftField label="Display name" name="display_name" value=draft.display_name result />
                <DraftField label="Client ID" name="client_id" value=draft.client_id result />
                <label class="block text-sm font-medium">
                    {move || if editing() { "Client secret (leave blank to keep)" } else { "Client secret" }}
                    <input type="password" name="form[client_secret]" autocomplete="off" class=INPUT
                        aria-invalid=move || field_error(result, "client_secret").get().is_some().to_string() />
                    <span class="text-sm text-rose-600" data-error-for="client_secret">{move || field_error(result, "client_secret").get()}</span>
                </label>
                <Show when=oidc>
                    <DraftField label="Discovery URL (or issuer)" name="discovery_url" value=draft.discovery_url result />
                </Show>
                <Show when=move || !oidc()>
                    <DraftField label="Authorize URL" name="authorize_url" value=draft.authorize_url result />
                    <DraftField label="Token URL" name="token_url" value=draft.token_url result />
                    <DraftField label="User-info URL" name="userinfo_url" value=draft.userinfo_url result />
                </Show>
                <DraftField label="Revocation URL (optional)" name="revocation_url" value=draft.revocation_url result />
                <DraftField label="Scopes (space separated)" name="scopes" value=draft.scopes result />
                <Show when=generic>
                    <label class="block text-sm font-medium">
                        "Field map (JSON: id, email, email_verified, name, avatar)"
                        <textarea name="form[field_map]" rows="6" class=format!("{INPUT} font-mono text-xs") prop:value=move || draft.field_map.get()
                            on:input=move |ev| draft.field_map.set(event_target_value(&ev))></textarea>
                        <span class="text-sm text-rose-600" data-error-for="field_map">{move || field_error(result, "field_map").get()}</span>
                    </label>
                </Show>
                <div class="flex gap-2">
                    <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 disabled:opacity-60" disabled=move || actions.save.pending().get()>
                        {move || if editing() { "Save changes" } else { "Add provider" }}
                    </button>
                    <Show when=editing>
                        <button type="button" class="rounded-md px-3 py-2 text-sm ring-1 ring-inset ring-slate-300 dark:ring-slate-700" on:click=move |_| {
                            actions.editing.set(None);
                            if let Some(p) = preset_of(&draft.kind.get_untracked()) {
                                draft.fill_from_preset(&p);
                            }
                        }>"Cancel"</button>
                    </Show>
                </div>
            </ActionForm>
        </div>
    }
}

/// A text field bound to a draft signal, with the server's message for it.
#[component]
fn DraftField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    result: Signal<Option<Result<ProviderInfo, crate::error::AppError>>>,
    #[prop(into, optional)] disabled: Signal<bool>,
) -> impl IntoView {
    let error = field_error(result, name);
    view! {
        <label class="block text-sm font-medium">
            {label}
            // A disabled input is not sent: editing keeps the slug from `editing` instead.
            <input type="text" name=format!("form[{name}]") class=INPUT autocomplete="off" disabled=move || disabled.get()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().to_string() />
            <span class="text-sm text-rose-600" data-error-for=name>{move || error.get()}</span>
        </label>
    }
}

#[component]
fn DeleteProviderDialog(actions: Actions) -> impl IntoView {
    let toasts = use_toasts();
    let unlink = RwSignal::new(false);
    let error = form_error(Signal::derive(move || actions.delete.value().get()));
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.delete.value().get() {
            if let Some(p) = actions.deleting.get_untracked() {
                toasts.ok(format!("Deleted {}", p.display_name));
            }
            actions.deleting.set(None);
            unlink.set(false);
        }
    });
    view! {
        <Show when=move || actions.deleting.with(Option::is_some)>
            {move || actions.deleting.get().map(|p| {
                let slug = p.slug.clone();
                let linked = p.linked_accounts;
                let panel = NodeRef::<leptos::html::Div>::new();
                Effect::new(move |_| {
                    if let Some(panel) = panel.get() {
                        let _ = panel.focus();
                    }
                });
                view! {
                    <div class="fixed inset-0 z-40 grid place-items-center bg-slate-950/50 p-4" on:keydown=move |ev| {
                        if ev.key() == "Escape" {
                            actions.deleting.set(None);
                        }
                    }>
                        <div node_ref=panel tabindex="-1" role="dialog" aria-modal="true" aria-labelledby="delete-provider-title" class="w-full max-w-md rounded-lg bg-white p-6 shadow-xl outline-none dark:bg-slate-900" data-testid="delete-provider-dialog">
                            <h2 id="delete-provider-title" class="text-lg font-semibold">"Delete " {p.display_name.clone()} "?"</h2>
                            <p class="mt-2 text-sm text-slate-600 dark:text-slate-400">
                                "Its sign-in button, its client secret and its redirect URI "
                                <code class="break-all">{p.redirect_uri.clone()}</code>
                                " go."
                            </p>
                            {(linked > 0).then(|| view! {
                                <label class="mt-4 flex items-start gap-2 text-sm">
                                    <input type="checkbox" data-testid="unlink-linked" prop:checked=move || unlink.get() on:change=move |ev| unlink.set(event_target_checked(&ev)) />
                                    <span>{format!("Unlink the {linked} account(s) that sign in with it. Accounts with no other way to sign in keep it until they set a password or link another provider.")}</span>
                                </label>
                            })}
                            <div class="mt-3"><FormError message=error /></div>
                            <div class="mt-6 flex justify-end gap-2">
                                <Button kind=ButtonKind::Secondary on_click=Box::new(move || actions.deleting.set(None))>"Cancel"</Button>
                                <Button kind=ButtonKind::Danger testid="confirm-delete-provider" pending=actions.delete.pending()
                                    disabled=Signal::derive(move || linked > 0 && !unlink.get())
                                    on_click=Box::new(move || {
                                        actions.delete.dispatch(DeleteProvider { slug: slug.clone(), unlink_linked: Some(unlink.get_untracked()) });
                                    })>
                                    "Delete provider"
                                </Button>
                            </div>
                        </div>
                    </div>
                }
            })}
        </Show>
    }
}
