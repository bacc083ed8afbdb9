use std::{collections::BTreeMap, time::Duration};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::{
    components::{form_error, FormError},
    error::AppError,
    features::{
        auth::components::RequireUser,
        deployments::{
            api::{check_subdomain, url_for, CreateDeployment},
            types::CreateDeploymentRequest,
        },
    },
};

#[component]
pub fn NewDeploymentPage() -> impl IntoView {
    view! {
        <Title text="New deployment" />
        <RequireUser children=|_| view! { <NewDeployment /> } />
    }
}

/// One environment variable row of the editor.
#[derive(Clone, Copy)]
struct EnvRow {
    id: u64,
    key: RwSignal<String>,
    value: RwSignal<String>,
    shown: RwSignal<bool>,
}

/// `KEY=value` lines of a `.env` file: comments, blank lines and `export ` skipped, quotes
/// around a value removed.
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_owned(), v.to_owned()))
        })
        .collect()
}

#[component]
fn NewDeployment() -> impl IntoView {
    let create = ServerAction::<CreateDeployment>::new();
    let repo_url = RwSignal::new(String::new());
    let branch = RwSignal::new(String::new());
    let subdomain = RwSignal::new(String::new());
    let rows = RwSignal::new(Vec::<EnvRow>::new());
    let next_row = StoredValue::new(0u64);
    let paste = RwSignal::new(String::new());
    let dockerfile = RwSignal::new(String::new());
    let context = RwSignal::new(String::new());
    let container_port = RwSignal::new(String::new());
    let health_path = RwSignal::new(String::new());
    let memory_mb = RwSignal::new(String::new());
    let cpus = RwSignal::new(String::new());

    let add_row = move |key: String, value: String| {
        let id = next_row.get_value();
        next_row.set_value(id + 1);
        rows.update(|r| {
            r.push(EnvRow {
                id,
                key: RwSignal::new(key),
                value: RwSignal::new(value),
                shown: RwSignal::new(false),
            })
        });
    };

    // The name is checked once typing pauses for 300 ms.
    let settled_name = RwSignal::new(String::new());
    Effect::new(move |_| {
        let name = subdomain.get();
        set_timeout(
            move || {
                if subdomain.get_untracked() == name {
                    settled_name.set(name);
                }
            },
            Duration::from_millis(300),
        );
    });
    let availability = Resource::new(
        move || settled_name.get(),
        |name| async move {
            if name.is_empty() {
                return None;
            }
            let checked = check_subdomain(name.clone()).await.ok()?;
            let url = url_for(name).await.ok();
            Some((checked, url))
        },
    );

    let result = Signal::derive(move || create.value().get());
    let field = move |name: &'static str| {
        Signal::derive(move || match result.get() {
            Some(Err(AppError::Validation { fields, .. })) => fields.get(name).cloned(),
            _ => None,
        })
    };
    let env_errors = Signal::derive(move || match result.get() {
        Some(Err(AppError::Validation { fields, .. })) => fields
            .iter()
            .filter(|(k, _)| k.starts_with("env"))
            .map(|(k, v)| format!("{}: {v}", k.trim_start_matches("env.")))
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    let subdomain_error = Signal::derive(move || {
        field("subdomain").get().or_else(|| {
            availability.get().flatten().and_then(|(a, _)| {
                (!a.available).then(|| a.message.unwrap_or_else(|| "is not available".into()))
            })
        })
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(d)) = create.value().get() {
            navigate(&format!("/deployments/{}", d.id), Default::default());
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let number = |s: RwSignal<String>| s.get_untracked().trim().parse::<u32>().ok();
        let text = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|t| !t.is_empty())
        };
        let env: BTreeMap<String, String> = rows
            .get_untracked()
            .iter()
            .filter(|r| !r.key.get_untracked().trim().is_empty())
            .map(|r| {
                (
                    r.key.get_untracked().trim().to_owned(),
                    r.value.get_untracked(),
                )
            })
            .collect();
        create.dispatch(CreateDeployment {
            request: CreateDeploymentRequest {
                name: None,
                repo_url: repo_url.get_untracked().trim().to_owned(),
                branch: text(branch),
                subdomain: subdomain.get_untracked().trim().to_owned(),
                env,
                access_token: None,
                dockerfile: text(dockerfile),
                context: text(context),
                container_port: number(container_port),
                health_path: text(health_path),
                memory_mb: number(memory_mb),
                cpus: cpus.get_untracked().trim().parse::<f64>().ok(),
            },
        });
    };

    let input_class = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/40 aria-[invalid=true]:border-rose-500 dark:border-slate-700 dark:bg-slate-900";
    let text_field = move |label: &'static str,
                           name: &'static str,
                           value: RwSignal<String>,
                           placeholder: &'static str,
                           hint: &'static str| {
        let error = field(name);
        view! {
            <div class="space-y-1">
                <label for=format!("field-{name}") class="block text-sm font-medium">{label}</label>
                <input id=format!("field-{name}") name=name placeholder=placeholder class=input_class
                    aria-invalid=move || error.get().is_some().to_string()
                    prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
                <p class="text-xs text-slate-500">{hint}</p>
                <p class="min-h-5 text-sm text-rose-600 dark:text-rose-400" data-error-for=name>{move || error.get()}</p>
            </div>
        }
    };

    view! {
        <h1 class="text-2xl font-bold tracking-tight">"New deployment"</h1>
        <form class="mt-6 max-w-2xl space-y-6" on:submit=submit novalidate=true>
            <FormError message=form_error(result) />
            {text_field("Git repository URL", "repo_url", repo_url, "https://github.com/you/app.git", "A public repository over HTTPS.")}
            {text_field("Branch", "branch", branch, "the repository's default branch", "")}
            <div class="space-y-1">
                <label for="field-subdomain" class="block text-sm font-medium">"Subdomain"</label>
                <input id="field-subdomain" name="subdomain" placeholder="my-app" class=input_class autocomplete="off"
                    aria-invalid=move || subdomain_error.get().is_some().to_string()
                    aria-describedby="subdomain-preview"
                    prop:value=move || subdomain.get() on:input=move |ev| subdomain.set(event_target_value(&ev).to_lowercase()) />
                <p id="subdomain-preview" class="text-xs text-slate-500" data-testid="url-preview">
                    <Transition fallback=|| ()>
                        {move || availability.get().flatten().and_then(|(a, url)| {
                            (a.available && settled_name.get() == subdomain.get()).then(|| view! {
                                <span class="text-emerald-700 dark:text-emerald-400">"Available: "</span>
                                <span>{url}</span>
                            })
                        })}
                    </Transition>
                </p>
                <p class="min-h-5 text-sm text-rose-600 dark:text-rose-400" data-error-for="subdomain">{move || subdomain_error.get()}</p>
            </div>

            <fieldset class="space-y-3">
                <legend class="text-sm font-medium">"Environment variables"</legend>
                <p class="text-xs text-slate-500">"Stored encrypted; values never leave the server again."</p>
                <For each=move || rows.get() key=|r| r.id let:row>
                    <div class="flex gap-2" data-testid="env-row">
                        <label class="sr-only" for=format!("env-key-{}", row.id)>"Name"</label>
                        <input id=format!("env-key-{}", row.id) placeholder="NAME" class=format!("{input_class} font-mono") prop:value=move || row.key.get()
                            on:input=move |ev| row.key.set(event_target_value(&ev)) />
                        <label class="sr-only" for=format!("env-value-{}", row.id)>"Value"</label>
                        <input id=format!("env-value-{}", row.id) placeholder="value" class=format!("{input_class} font-mono")
                            type=move || if row.shown.get() { "text" } else { "password" } autocomplete="off"
                            prop:value=move || row.value.get() on:input=move |ev| row.value.set(event_target_value(&ev)) />
                        <button type="button" class="rounded-md px-2 text-xs ring-1 ring-inset ring-slate-300 dark:ring-slate-700"
                            aria-pressed=move || row.shown.get().to_string()
                            on:click=move |_| row.shown.update(|s| *s = !*s)>
                            {move || if row.shown.get() { "Hide" } else { "Show" }}
                        </button>
                        <button type="button" class="rounded-md px-2 text-xs text-rose-600 ring-1 ring-inset ring-slate-300 dark:ring-slate-700" aria-label="Remove variable"
                            on:click=move |_| rows.update(|r| r.retain(|x| x.id != row.id))>"Remove"</button>
                    </div>
                </For>
                <For each=move || env_errors.get() key=|e| e.clone() let:error>
                    <p class="text-sm text-rose-600 dark:text-rose-400" data-error-for="env">{error}</p>
                </For>
                <div class="flex flex-wrap gap-2">
                    <button type="button" class="rounded-md px-3 py-1.5 text-sm ring-1 ring-inset ring-slate-300 dark:ring-slate-700" data-testid="add-env"
                        on:click=move |_| add_row(String::new(), String::new())>"Add variable"</button>
                </div>
                <details class="text-sm">
                    <summary class="cursor-pointer text-slate-600 dark:text-slate-400">"Paste a .env file"</summary>
                    <label for="dotenv" class="sr-only">".env contents"</label>
                    <textarea id="dotenv" rows="4" class=format!("{input_class} mt-2 font-mono") placeholder="KEY=value"
                        prop:value=move || paste.get() on:input=move |ev| paste.set(event_target_value(&ev))></textarea>
                    <button type="button" class="mt-2 rounded-md px-3 py-1.5 ring-1 ring-inset ring-slate-300 dark:ring-slate-700" data-testid="fill-env"
                        on:click=move |_| {
                            for (k, v) in parse_dotenv(&paste.get_untracked()) {
                                match rows.get_untracked().iter().find(|r| r.key.get_untracked() == k) {
                                    Some(existing) => existing.value.set(v),
                                    None => add_row(k, v),
                                }
                            }
                            paste.set(String::new());
                        }>"Fill in"</button>
                </details>
            </fieldset>

            <details class="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
                <summary class="cursor-pointer text-sm font-medium">"Advanced: build and run settings"</summary>
                <div class="mt-4 grid gap-x-4 sm:grid-cols-2">
                    {text_field("Dockerfile", "dockerfile", dockerfile, "Dockerfile", "Path in the repository.")}
                    {text_field("Build context", "context", context, ".", "Directory the build sees.")}
                    {text_field("Container port", "container_port", container_port, "from EXPOSE, else 8080", "")}
                    {text_field("Health check path", "health_path", health_path, "a TCP connect", "e.g. /health")}
                    {text_field("Memory (MiB)", "memory_mb", memory_mb, "512", "")}
                    {text_field("CPUs", "cpus", cpus, "1", "")}
                </div>
            </details>

            <button type="submit" class="inline-flex items-center gap-2 rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-indigo-500 disabled:opacity-60"
                disabled=move || create.pending().get() data-testid="deploy">
                <Show when=move || create.pending().get()>
                    <span aria-hidden="true" class="h-3.5 w-3.5 animate-spin rounded-full border-2 border-current border-r-transparent"></span>
                </Show>
                "Deploy"
            </button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_dotenv;

    #[test]
    fn dotenv_lines_become_pairs() {
        let text = "# comment\nexport A=1\nB = \"two words\"\n\nC='x=y'\nnot a pair\n";
        assert_eq!(
            parse_dotenv(text),
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x=y".into())
            ]
        );
    }
}
