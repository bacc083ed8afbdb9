use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::require_admin::{AdminNav, RequireAdmin};
use crate::{
    components::{field_error, form_error, Field, FormError},
    features::{
        admin::{
            api::{list_users, CreateUser, DeleteUser, ResetPassword, UpdateUser},
            types::UserSummary,
        },
        auth::types::Role,
    },
};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <RequireAdmin children=|_| view! { <Users /> } />
    }
}

#[component]
fn Users() -> impl IntoView {
    let query = use_query_map();
    let search = move || query.read().get("query").unwrap_or_default();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(1)
    };
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetPassword>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let users = Resource::new(
        move || {
            (
                search(),
                page(),
                create.version().get(),
                update.version().get(),
                delete.version().get(),
            )
        },
        |(query, page, ..)| list_users(query, page),
    );
    let confirm_delete = RwSignal::new(None::<String>);
    let update_error = form_error(Signal::derive(move || update.value().get()));
    let delete_error = form_error(Signal::derive(move || delete.value().get()));
    let reset_result = move || reset.value().get();

    view! {
        <h1 class="text-2xl font-bold tracking-tight">"Administration"</h1>
        <AdminNav />
        <div class="grid gap-8 lg:grid-cols-3">
            <section class="lg:col-span-2" aria-labelledby="users-heading">
                <div class="flex items-center justify-between gap-4">
                    <h2 id="users-heading" class="text-lg font-semibold">"Users"</h2>
                    <Form method="GET" action="" attr:class="flex gap-2" attr:role="search">
                        <label for="user-search" class="sr-only">"Search users"</label>
                        <input id="user-search" type="search" name="query" placeholder="Search name or email" prop:value=search class="rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900" />
                        <button type="submit" class="rounded-md px-3 py-1.5 text-sm ring-1 ring-inset ring-slate-300 dark:ring-slate-700">"Search"</button>
                    </Form>
                </div>
                <FormError message=update_error />
                <FormError message=delete_error />
                {move || reset_result().map(|r| match r {
                    Ok(reset) => view! {
                        <p role="status" class="mt-3 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200" data-testid="new-password">
                            "New password (shown once): " <code class="font-mono">{reset.password.unwrap_or_default()}</code>
                        </p>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="mt-3 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                })}
                <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Loading…"</p> }>
                    {move || users.get().map(|result| match result {
                        Ok(page_data) => {
                            let total_pages = page_data.total.div_ceil(u64::from(page_data.per_page)).max(1);
                            let current = page_data.page;
                            let query_now = search();
                            view! {
                                <table class="mt-4 w-full text-left text-sm" data-testid="users-table">
                                    <thead class="text-xs uppercase text-slate-500">
                                        <tr><th class="py-2">"User"</th><th>"Role"</th><th>"Status"</th><th class="text-right">"Actions"</th></tr>
                                    </thead>
                                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                        {page_data.users.into_iter().map(|user| view! {
                                            <UserRow user confirm_delete update reset delete />
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <div class="mt-4 flex items-center justify-between text-sm text-slate-600 dark:text-slate-400">
                                    <span>{format!("{} users · page {} of {}", page_data.total, current, total_pages)}</span>
                                    <span class="flex gap-3">
                                        {(current > 1).then(|| view! { <a href=format!("?query={}&page={}", query_now, current - 1)>"← Previous"</a> })}
                                        {(u64::from(current) < total_pages).then(|| view! { <a href=format!("?query={}&page={}", search(), current + 1)>"Next →"</a> })}
                                    </span>
                                </div>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="mt-4 text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                    })}
                </Transition>
            </section>
            <NewUser create />
        </div>
    }
}

#[component]
fn UserRow(
    user: UserSummary,
    confirm_delete: RwSignal<Option<String>>,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetPassword>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    let id = user.id.clone();
    let is_admin = user.role == Role::Admin;
    let asking = {
        let id = id.clone();
        move || confirm_delete.get().as_deref() == Some(id.as_str())
    };
    let confirm_text = format!(
        "Delete {} for good? Their sessions and API tokens go with the account.",
        user.username
    );
    let delete_id = id.clone();
    let editing = RwSignal::new(false);
    let edit_id = id.clone();
    let (edit_name, edit_email) = (user.display_name.clone(), user.email.clone());
    let edit_result = Signal::derive(move || update.value().get());
    let (role_id, disable_id, reset_id, ask_id) = (id.clone(), id.clone(), id.clone(), id.clone());
    let small = "rounded px-2 py-1 text-xs ring-1 ring-inset ring-slate-300 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800";
    view! {
        <tr data-testid="user-row" data-username=user.username.clone()>
            <td class="py-3">
                <p class="font-medium">{user.username.clone()}</p>
                <p class="text-slate-500">{user.email.clone()}</p>
            </td>
            <td>{if is_admin { "Admin" } else { "User" }}</td>
            <td data-testid="user-status">{if user.disabled { "Disabled" } else { "Active" }}</td>
            <td class="py-3">
                <div class="flex flex-wrap justify-end gap-1">
                    <ActionForm action=update>
                        <input type="hidden" name="id" value=role_id />
                        <input type="hidden" name="role" value=if is_admin { "user" } else { "admin" } />
                        <button type="submit" class=small>{if is_admin { "Make user" } else { "Make admin" }}</button>
                    </ActionForm>
                    <ActionForm action=update>
                        <input type="hidden" name="id" value=disable_id />
                        <input type="hidden" name="disabled" value=(!user.disabled).to_string() />
                        <button type="submit" class=small>{if user.disabled { "Enable" } else { "Disable" }}</button>
                    </ActionForm>
                    <button type="button" class=small on:click=move |_| editing.update(|e| *e = !*e)>"Edit"</button>
                    <ActionForm action=reset>
                        <input type="hidden" name="id" value=reset_id />
                        <button type="submit" class=small>"Reset password"</button>
                    </ActionForm>
                    {
                        let id = ask_id;
                        view! {
                            <button type="button" class="rounded px-2 py-1 text-xs text-rose-700 ring-1 ring-inset ring-rose-200 hover:bg-rose-50 dark:text-rose-300 dark:ring-rose-900" on:click=move |_| confirm_delete.set(Some(id.clone()))>
                                "Delete"
                            </button>
                        }
                    }
                </div>
                <Show when=move || editing.get()>
                    {
                        let id = edit_id.clone();
                        let (name, email) = (edit_name.clone(), edit_email.clone());
                        view! {
                            <div role="dialog" aria-label="Edit user" class="mt-2 rounded-md border border-slate-200 p-3 dark:border-slate-700">
                                <ActionForm action=update on:submit=move |_| editing.set(false) attr:class="space-y-2">
                                    <input type="hidden" name="id" value=id />
                                    <Field label="Display name" name="display_name" value=Signal::stored(name) error=field_error(edit_result, "display_name") />
                                    <Field label="Email" name="email" kind="email" value=Signal::stored(email) error=field_error(edit_result, "email") />
                                    <div class="flex justify-end gap-2">
                                        <button type="button" class=small on:click=move |_| editing.set(false)>"Cancel"</button>
                                        <button type="submit" class="rounded bg-indigo-600 px-2 py-1 text-xs font-medium text-white hover:bg-indigo-500">"Save"</button>
                                    </div>
                                </ActionForm>
                            </div>
                        }
                    }
                </Show>
                <Show when=asking.clone()>
                    {
                        let id = delete_id.clone();
                        let text = confirm_text.clone();
                        view! {
                            <div role="alertdialog" aria-label="Confirm deletion" class="mt-2 rounded-md border border-rose-200 bg-rose-50 p-3 text-xs text-rose-900 dark:border-rose-900 dark:bg-rose-950 dark:text-rose-200">
                                <p>{text}</p>
                                <div class="mt-2 flex justify-end gap-2">
                                    <button type="button" class=small on:click=move |_| confirm_delete.set(None)>"Cancel"</button>
                                    <ActionForm action=delete on:submit=move |_| confirm_delete.set(None)>
                                        <input type="hidden" name="id" value=id />
                                        <button type="submit" class="rounded bg-rose-600 px-2 py-1 text-xs font-medium text-white hover:bg-rose-500">"Delete user"</button>
                                    </ActionForm>
                                </div>
                            </div>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}

#[component]
fn NewUser(create: ServerAction<CreateUser>) -> impl IntoView {
    let result = Signal::derive(move || create.value().get());
    let created = move || match result.get() {
        Some(Ok(user)) => Some(user.username),
        _ => None,
    };
    view! {
        <section aria-labelledby="new-user-heading" class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="new-user-heading" class="text-lg font-semibold">"New user"</h2>
            <ActionForm action=create attr:class="mt-4 space-y-3" attr:data-testid="new-user-form">
                <FormError message=form_error(result) />
                {move || created().map(|name| view! { <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400">{format!("Created {name}.")}</p> })}
                <Field label="Username" name="username" required=true error=field_error(result, "username") />
                <Field label="Email" name="email" kind="email" required=true error=field_error(result, "email") />
                <Field label="Password" name="password" kind="password" autocomplete="new-password" required=true error=field_error(result, "password") />
                <label class="flex items-center gap-2 text-sm"><input type="checkbox" name="admin" value="on" />"Admin"</label>
                <button type="submit" class="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500">"Create user"</button>
            </ActionForm>
        </section>
    }
}
