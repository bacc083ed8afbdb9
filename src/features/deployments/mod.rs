//! Deployments: an app built from a Git repository and kept running in a container.

pub mod types;
