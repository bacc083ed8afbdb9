use std::sync::Arc;

use leptos::prelude::*;

/// Lets a page choose the HTTP status of its server-rendered response (404, 500) without
/// naming server types: the server provides this context per request, the browser never does.
#[derive(Clone)]
pub struct HttpStatus(Arc<dyn Fn(u16) + Send + Sync>);

impl HttpStatus {
    pub fn new(set: impl Fn(u16) + Send + Sync + 'static) -> Self {
        Self(Arc::new(set))
    }
}

/// Sets the response status when rendering on the server; does nothing in the browser.
pub fn set_http_status(code: u16) {
    if let Some(HttpStatus(set)) = use_context::<HttpStatus>() {
        set(code);
    }
}
