//! Reusable UI pieces, shared by every feature.

pub mod ansi;
mod button;
mod copy_button;
mod field;
mod status_dot;
mod toast;

pub use button::{Button, ButtonKind};
pub use copy_button::CopyButton;
pub use field::{field_error, form_error, Field, FormError};
pub use status_dot::StatusDot;
pub use toast::{provide_toasts, use_toasts, ToastRegion, Toasts};
