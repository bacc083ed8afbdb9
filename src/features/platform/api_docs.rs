//! `/api/docs`: the REST API's reference, read from its OpenAPI document.

use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::Value;

use super::api::api_document;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// One operation of the document, as the page shows it.
#[derive(Clone)]
struct Operation {
    method: String,
    path: String,
    summary: String,
    public: bool,
    parameters: Vec<(String, String, bool, String)>,
    body: Option<String>,
    responses: Vec<(String, String)>,
}

/// The name of a `$ref`'d schema, or the type of an inline one.
fn schema_name(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if schema["type"] == "array" {
        return format!("[{}]", schema_name(&schema["items"]));
    }
    schema["type"].as_str().unwrap_or("any").to_owned()
}

fn operations_by_tag(doc: &Value) -> Vec<(String, String, Vec<Operation>)> {
    let tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    tags.into_iter()
        .map(|(tag, description)| {
            let mut ops = Vec::new();
            for (path, item) in doc["paths"].as_object().into_iter().flatten() {
                for method in METHODS {
                    let op = &item[method];
                    if op.is_null()
                        || !op["tags"]
                            .as_array()
                            .is_some_and(|t| t.iter().any(|t| t == tag.as_str()))
                    {
                        continue;
                    }
                    ops.push(Operation {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        summary: op["summary"].as_str().unwrap_or_default().to_owned(),
                        public: op["security"] == serde_json::json!([{}]),
                        parameters: op["parameters"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|p| {
                                (
                                    p["name"].as_str().unwrap_or_default().to_owned(),
                                    p["in"].as_str().unwrap_or_default().to_owned(),
                                    p["required"].as_bool().unwrap_or(false),
                                    p["description"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect(),
                        body: op["requestBody"]["content"]
                            .as_object()
                            .and_then(|c| c.values().next())
                            .map(|c| schema_name(&c["schema"])),
                        responses: op["responses"]
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(|(code, r)| {
                                (
                                    code.clone(),
                                    r["description"].as_str().unwrap_or_default().to_owned(),
                                )
                            })
                            .collect(),
                    });
                }
            }
            (tag, description, ops)
        })
        .filter(|(_, _, ops)| !ops.is_empty())
        .collect()
}

#[component]
pub fn ApiDocsPage() -> impl IntoView {
    let doc = Resource::new(|| (), |_| api_document());
    view! {
        <Title text="API reference" />
        <header class="mb-6">
            <h1 class="text-2xl font-bold tracking-tight">"API reference"</h1>
            <p class="mt-1 max-w-3xl text-sm text-slate-600 dark:text-slate-400">
                "Everything under " <code>"/api/v1"</code> ", for scripts and CI. Send a personal token (made on the "
                <a href="/account" class="text-indigo-600 dark:text-indigo-400">"account page"</a>
                ") as " <code>"Authorization: Bearer slp_…"</code> ". Errors are "
                <code>"{\"error\": {\"code\", \"message\", \"fields\"?}}"</code> ". The machine-readable document: "
                <a href="/api/v1/openapi.json" rel="external" class="text-indigo-600 dark:text-indigo-400" data-testid="openapi-link">"openapi.json"</a> "."
            </p>
        </header>
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || doc.get().map(|doc| match doc {
                Ok(doc) => view! {
                    <div class="space-y-10">
                        {operations_by_tag(&doc).into_iter().map(|(tag, description, ops)| view! {
                            <section aria-labelledby=format!("tag-{tag}")>
                                <h2 id=format!("tag-{tag}") class="text-lg font-semibold capitalize">{tag.clone()}</h2>
                                <p class="text-sm text-slate-500">{description}</p>
                                <ul class="mt-3 space-y-2">
                                    {ops.into_iter().map(|op| view! { <OperationCard op /> }).collect_view()}
                                </ul>
                            </section>
                        }).collect_view()}
                    </div>
                }.into_any(),
                Err(e) => view! { <p role="alert" class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn OperationCard(op: Operation) -> impl IntoView {
    let colour = match op.method.as_str() {
        "GET" => "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-200",
        "POST" => "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
        "DELETE" => "bg-rose-100 text-rose-800 dark:bg-rose-950 dark:text-rose-200",
        _ => "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-200",
    };
    let id = format!("{} {}", op.method, op.path);
    view! {
        <li class="rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" data-operation=id>
            <details>
                <summary class="flex cursor-pointer flex-wrap items-center gap-3 px-4 py-2 text-sm">
                    <span class=format!("w-16 rounded px-2 py-0.5 text-center font-mono text-xs font-semibold {colour}")>{op.method.clone()}</span>
                    <code class="font-mono">{op.path.clone()}</code>
                    <span class="text-slate-600 dark:text-slate-400">{op.summary.clone()}</span>
                    {op.public.then(|| view! { <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">"public"</span> })}
                </summary>
                <div class="space-y-3 border-t border-slate-100 px-4 py-3 text-sm dark:border-slate-800">
                    {(!op.parameters.is_empty()).then(|| view! {
                        <div>
                            <h3 class="text-xs font-semibold uppercase text-slate-500">"Parameters"</h3>
                            <ul class="mt-1 space-y-1">
                                {op.parameters.iter().map(|(name, place, required, description)| view! {
                                    <li><code class="font-mono">{name.clone()}</code> " (" {place.clone()} {required.then_some(", required")} ") " <span class="text-slate-600 dark:text-slate-400">{description.clone()}</span></li>
                                }).collect_view()}
                            </ul>
                        </div>
                    })}
                    {op.body.clone().map(|body| view! {
                        <p><span class="text-xs font-semibold uppercase text-slate-500">"Body "</span><code class="font-mono">{body}</code></p>
                    })}
                    <div>
                        <h3 class="text-xs font-semibold uppercase text-slate-500">"Answers"</h3>
                        <ul class="mt-1 space-y-1">
                            {op.responses.iter().map(|(code, description)| view! {
                                <li><code class="font-mono font-semibold">{code.clone()}</code> " " <span class="text-slate-600 dark:text-slate-400">{description.clone()}</span></li>
                            }).collect_view()}
                        </ul>
                    </div>
                </div>
            </details>
        </li>
    }
}
