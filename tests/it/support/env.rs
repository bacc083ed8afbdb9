//! The settings tests start from: the environment, then `.env` in the repository root
//! (what `make services` starts and `scripts/env.sh` writes).

use std::{collections::HashMap, path::PathBuf, sync::OnceLock};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A setting the suite cannot run without. Missing means the services were not set up, and
/// the test fails saying so (it never skips).
pub fn required(var: &str) -> String {
    lookup(var).unwrap_or_else(|| {
        panic!("{var} is not set in the environment or .env: run `make services` (or `make test`) first")
    })
}

pub fn lookup(var: &str) -> Option<String> {
    static DOTENV: OnceLock<HashMap<String, String>> = OnceLock::new();
    // As in Slipway itself, a variable in the environment wins over .env even when empty.
    std::env::var(var).ok().or_else(|| {
        DOTENV
            .get_or_init(|| {
                dotenvy::from_path_iter(repo_root().join(".env"))
                    .map(|iter| iter.filter_map(Result::ok).collect())
                    .unwrap_or_default()
            })
            .get(var)
            .cloned()
    })
}

/// `DATABASE_URL` with its database name replaced.
pub fn database_url_for(base: &str, database: &str) -> String {
    let (without_query, query) = base
        .split_once('?')
        .map_or((base, None), |(b, q)| (b, Some(q)));
    let (server, _) = without_query
        .rsplit_once('/')
        .expect("DATABASE_URL has a /database part");
    match query {
        Some(q) => format!("{server}/{database}?{q}"),
        None => format!("{server}/{database}"),
    }
}
