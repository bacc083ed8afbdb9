//! What a server function knows about its request: the app state (and, later, the caller).

use leptos::prelude::use_context;

use super::{error::internal, AppState};
use crate::error::AppError;

/// The state the router provides to every server function and page render.
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>()
        .ok_or_else(|| internal("server function without app state", "missing context"))
}
