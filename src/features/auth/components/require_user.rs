use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use super::use_auth;
use crate::features::auth::types::Me;

/// Shows `children` to a signed-in person; anyone else goes to `/login?next=<this page>`.
#[component]
pub fn RequireUser<F, IV>(children: F) -> impl IntoView
where
    F: Fn(Me) -> IV + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let auth = use_auth();
    let location = use_location();
    let children = Arc::new(children);
    view! {
        <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                // Awaiting (not `get`) waits for a reload in flight: acting on the previous
                // answer would send someone who has just signed in back to the sign-in page.
                Suspend::new(async move {
                    match auth.user.await {
                        Ok(Some(me)) => children(me).into_any(),
                        Ok(None) => {
                            let here = format!(
                                "{}{}",
                                location.pathname.get_untracked(),
                                location.search.get_untracked(),
                            );
                            view! { <Redirect path=login_path_for(&here) /> }.into_any()
                        }
                        Err(e) => view! { <p role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// `/login?next=<path>`, with the path percent-encoded.
pub fn login_path_for(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("/login?next={encoded}")
}
