use leptos::prelude::*;
use leptos_router::components::A;

use super::use_auth;

/// The right end of the top bar: the signed-in person with a sign-out button, or a link
/// to sign in.
#[component]
pub fn UserMenu() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Transition fallback=|| ()>
            {move || {
                auth.user
                    .get()
                    .map(|user| match user {
                        Ok(Some(me)) => {
                            let name = if me.display_name.is_empty() {
                                me.username.clone()
                            } else {
                                me.display_name.clone()
                            };
                            let initials: String = name
                                .split(|c: char| !c.is_alphanumeric())
                                .filter_map(|w| w.chars().next())
                                .take(2)
                                .collect::<String>()
                                .to_uppercase();
                            view! {
                                <div class="flex items-center gap-2 sm:gap-3" data-testid="user-menu">
                                    {(me.role == crate::features::auth::types::Role::Admin).then(|| view! {
                                        <A href="/admin/users" attr:class="rounded-md px-2 py-1 text-sm text-slate-600 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white">"Admin"</A>
                                    })}
                                    <A href="/account" attr:class="flex items-center gap-2 text-sm">
                                        <span aria-hidden="true" class="grid h-8 w-8 place-items-center rounded-full bg-indigo-100 text-xs font-semibold text-indigo-700 dark:bg-indigo-900 dark:text-indigo-200">
                                            {initials}
                                        </span>
                                        <span data-testid="user-name" class="sr-only sm:not-sr-only">{name}</span>
                                    </A>
                                    <ActionForm action=auth.logout>
                                        <button type="submit" class="whitespace-nowrap rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white">
                                            "Sign out"
                                        </button>
                                    </ActionForm>
                                </div>
                            }
                                .into_any()
                        }
                        _ => {
                            view! {
                                <A href="/login" attr:class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500">
                                    "Sign in"
                                </A>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}
