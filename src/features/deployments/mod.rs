//! Deployments: an app built from a Git repository and kept running in a container.

pub mod api;
pub mod components;
pub mod live;
pub mod pages;
pub mod types;
