use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    app::set_http_status,
    features::auth::{
        components::RequireUser,
        types::{Me, Role},
    },
};

/// A signed-in admin sees `children`; anyone else signed in is told why not.
#[component]
pub fn RequireAdmin<F, IV>(children: F) -> impl IntoView
where
    F: Fn(Me) -> IV + Send + Sync + Clone + 'static,
    IV: IntoView + 'static,
{
    view! {
        <RequireUser children=move |me: Me| {
            if me.role == Role::Admin {
                children.clone()(me).into_any()
            } else {
                set_http_status(403);
                view! {
                    <p role="alert" data-testid="admins-only">"Only admins can see this page."</p>
                }
                    .into_any()
            }
        } />
    }
}

/// Tabs between the admin pages.
#[component]
pub fn AdminNav() -> impl IntoView {
    let link = "rounded-md px-3 py-1.5 text-sm text-slate-600 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:font-medium aria-[current=page]:text-indigo-700 dark:text-slate-300 dark:hover:bg-slate-800 dark:aria-[current=page]:bg-indigo-950 dark:aria-[current=page]:text-indigo-300";
    view! {
        <nav aria-label="Admin" class="mb-6 flex gap-2 border-b border-slate-200 pb-3 dark:border-slate-800">
            <A href="/admin/users" attr:class=link>"Users"</A>
            <A href="/admin/providers" attr:class=link>"Sign-in providers"</A>
            <A href="/admin/discord" attr:class=link>"Discord"</A>
            <A href="/admin/settings" attr:class=link>"Settings"</A>
            <A href="/admin/audit" attr:class=link>"Audit log"</A>
        </nav>
    }
}
