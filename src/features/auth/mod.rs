//! Accounts and sessions: what the browser and API clients send and get back.

pub mod api;
pub mod components;
pub mod next;
pub mod pages;
pub mod types;
