//! Reusable UI pieces, shared by every feature.

mod button;
mod field;
mod status_dot;

pub use button::{Button, ButtonKind};
pub use field::{field_error, form_error, Field, FormError};
pub use status_dot::StatusDot;
