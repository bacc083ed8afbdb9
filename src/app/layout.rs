use leptos::prelude::*;
use leptos_router::components::A;

use crate::{components::ToastRegion, features::auth::components::UserMenu};

/// The frame around every page: top bar and a centred content column.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <div class="flex min-h-screen flex-col">
            <TopBar />
            <main id="main" class="mx-auto w-full max-w-6xl flex-1 px-4 py-8 sm:px-6">
                {children()}
            </main>
            <footer class="border-t border-slate-200 py-4 text-center text-xs text-slate-500 dark:border-slate-800">
                "Slipway " {env!("CARGO_PKG_VERSION")} " · "
                <A href="/api/docs" attr:class="hover:text-slate-700 dark:hover:text-slate-300">"API"</A>
            </footer>
            <ToastRegion />
        </div>
    }
}

#[component]
fn TopBar() -> impl IntoView {
    view! {
        <header class="sticky top-0 z-10 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
            <a href="#main" class="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-indigo-600 focus:px-3 focus:py-1 focus:text-white">
                "Skip to content"
            </a>
            <nav aria-label="Main" class="mx-auto flex h-14 max-w-6xl items-center gap-3 px-4 sm:gap-6 sm:px-6">
                <A href="/" attr:class="flex items-center gap-2 font-semibold tracking-tight">
                    <span aria-hidden="true" class="grid h-7 w-7 place-items-center rounded-md bg-indigo-600 text-sm font-bold text-white">
                        "S"
                    </span>
                    <span class="sr-only sm:not-sr-only">"Slipway"</span>
                </A>
                <ul class="flex flex-1 items-center gap-4 text-sm">
                    <li>
                        <A href="/" attr:class="rounded px-2 py-1 text-slate-600 hover:text-slate-900 aria-[current=page]:font-medium aria-[current=page]:text-indigo-600 dark:text-slate-300 dark:hover:text-white dark:aria-[current=page]:text-indigo-400">
                            "Deployments"
                        </A>
                    </li>
                </ul>
                <UserMenu />
            </nav>
        </header>
    }
}
