//! Administration: accounts, the registration policy and the audit log.

pub mod types;
