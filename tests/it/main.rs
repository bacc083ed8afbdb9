//! The integration suite: one binary, real PostgreSQL, Redis, Docker and nginx.
//! Each test gets its own database; `make services` starts what they need.

mod support;

mod admin;
mod auth;
mod binary;
mod cloudflare;
mod deployments;
mod discord;
mod health;
mod http_basics;
mod live;
mod oauth;
mod observability;
mod openapi;
mod routing;
mod webhooks;
