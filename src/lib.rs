//! Slipway: a self-hosted deployment platform, one Leptos application for server and browser.
#![recursion_limit = "256"]

pub mod app;
pub mod components;
pub mod error;
pub mod features;

// The one place server code is gated: nothing under `server` reaches the WASM bundle.
#[cfg(feature = "ssr")]
pub mod server;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker end-to-end tests wait on: from here the page is driven by WASM.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
