//! Reusable UI pieces, shared by every feature.

mod button;
mod status_dot;

pub use button::{Button, ButtonKind};
pub use status_dot::StatusDot;
