//! The application shell: document, route table, layout and the pages every app has.

mod error_page;
mod home;
mod http_status;
mod layout;
mod not_found;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, StaticSegment,
};

use crate::features::{
    admin::pages::{
        AdminAuditPage, AdminDiscordPage, AdminProvidersPage, AdminSettingsPage, AdminUsersPage,
    },
    auth::{
        components::provide_auth,
        pages::{AccountPage, DiscordLinkPage, LoginPage, RegisterPage},
    },
    deployments::pages::{DeploymentPage, NewDeploymentPage},
    platform::api_docs::ApiDocsPage,
};

pub use error_page::ErrorPage;
pub use http_status::{set_http_status, HttpStatus};
pub use not_found::NotFound;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/slipway.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta name="color-scheme" content="light dark" />
        <Title formatter=|page: String| {
            if page.is_empty() { "Slipway".to_owned() } else { format!("{page} · Slipway") }
        } />
        <Router>
            <Shell />
        </Router>
    }
}

/// Everything inside the router, where the signed-in user can be tracked per navigation.
#[component]
fn Shell() -> impl IntoView {
    provide_auth();
    crate::components::provide_toasts();
    view! {
        <layout::Layout>
            <ErrorBoundary fallback=|errors| view! { <ErrorPage errors /> }>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=home::HomePage />
                    <Route path=StaticSegment("login") view=LoginPage />
                    <Route path=(StaticSegment("api"), StaticSegment("docs")) view=ApiDocsPage />
                    <Route path=StaticSegment("register") view=RegisterPage />
                    <Route path=StaticSegment("account") view=AccountPage />
                    <Route path=(StaticSegment("discord"), StaticSegment("link")) view=DiscordLinkPage />
                    <Route path=(StaticSegment("deployments"), StaticSegment("new")) view=NewDeploymentPage />
                    <Route path=(StaticSegment("deployments"), ParamSegment("id")) view=DeploymentPage />
                    <Route path=(StaticSegment("admin"), StaticSegment("users")) view=AdminUsersPage />
                    <Route path=(StaticSegment("admin"), StaticSegment("providers")) view=AdminProvidersPage />
                    <Route path=(StaticSegment("admin"), StaticSegment("discord")) view=AdminDiscordPage />
                    <Route path=(StaticSegment("admin"), StaticSegment("settings")) view=AdminSettingsPage />
                    <Route path=(StaticSegment("admin"), StaticSegment("audit")) view=AdminAuditPage />
                </Routes>
            </ErrorBoundary>
        </layout::Layout>
    }
}
