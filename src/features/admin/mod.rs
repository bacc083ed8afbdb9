//! Administration: accounts, the registration policy and the audit log.

pub mod api;
pub mod pages;
pub mod types;
