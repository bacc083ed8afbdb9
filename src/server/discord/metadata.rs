//! Role-connection metadata: what Slipway tells Discord about a member, registered for the
//! application, checked against Discord's limits before anything is sent.

use std::collections::BTreeSet;

use serde_json::json;

use super::api;
use crate::{
    error::AppError,
    features::admin::types::{DiscordFailure, DiscordMetadataRecord, DiscordStatus},
    server::{auth::admin::Admin, db, error::internal, AppState},
};

/// Discord's limit on records per application.
pub const MAX_RECORDS: usize = 5;

/// What Slipway registers: deployments running now (integer ≥), days since the account was
/// made (datetime ≥) and whether the member is a Slipway admin (boolean =).
pub fn slipway_records() -> Vec<DiscordMetadataRecord> {
    let record = |key: &str, name: &str, description: &str, kind: u8| DiscordMetadataRecord {
        key: key.into(),
        name: name.into(),
        description: description.into(),
        kind,
    };
    vec![
        record(
            "running_deployments",
            "Running deployments",
            "Apps running on Slipway at least",
            2,
        ),
        record(
            "member_since",
            "Member for",
            "Days since joining Slipway",
            6,
        ),
        record("is_admin", "Slipway admin", "Runs this Slipway server", 7),
    ]
}

/// Discord's rules (API docs, "Application Role Connection Metadata Object"): at most five
/// records; keys `a-z`, `0-9` and `_`, 1 to 50 characters, unique; names 1 to 100 and
/// descriptions 1 to 200 characters; types 1 to 8.
pub fn validate(records: &[DiscordMetadataRecord]) -> Result<(), String> {
    if records.len() > MAX_RECORDS {
        return Err(format!(
            "{} records: Discord takes at most {MAX_RECORDS}",
            records.len()
        ));
    }
    let mut keys = BTreeSet::new();
    for r in records {
        let key_ok = (1..=50).contains(&r.key.len())
            && r.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !key_ok {
            return Err(format!("key `{}` must be 1 to 50 of a-z, 0-9 and _", r.key));
        }
        if !keys.insert(&r.key) {
            return Err(format!("key `{}` appears twice", r.key));
        }
        if !(1..=100).contains(&r.name.chars().count()) {
            return Err(format!(
                "the name of `{}` must be 1 to 100 characters",
                r.key
            ));
        }
        if !(1..=200).contains(&r.description.chars().count()) {
            return Err(format!(
                "the description of `{}` must be 1 to 200 characters",
                r.key
            ));
        }
        if !(1..=8).contains(&r.kind) {
            return Err(format!("the type of `{}` must be 1 to 8", r.key));
        }
    }
    Ok(())
}

/// Registers Slipway's records with Discord (a full replacement) and returns what Discord
/// now has.
pub async fn register(api: &api::Api<'_>) -> Result<Vec<DiscordMetadataRecord>, String> {
    let records = slipway_records();
    validate(&records)?;
    let answer = api::put_metadata(api, &json!(records))
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_value(answer).map_err(|e| format!("Discord's answer is not metadata: {e}"))
}

/// What Discord has registered for the application.
pub async fn registered(api: &api::Api<'_>) -> Result<Vec<DiscordMetadataRecord>, String> {
    let answer = api::get_metadata(api).await.map_err(|e| e.to_string())?;
    serde_json::from_value(answer).map_err(|e| format!("Discord's answer is not metadata: {e}"))
}

/// `POST /api/v1/admin/discord/metadata`.
pub async fn register_as(
    state: &AppState,
    admin: &Admin,
    client: &crate::server::auth::service::Client,
) -> Result<Vec<DiscordMetadataRecord>, AppError> {
    let records = register(&api::Api::of(state))
        .await
        .map_err(|message| AppError::Unavailable { message })?;
    state.discord.forget_keys();
    crate::server::auth::service::audit(
        state,
        Some(admin.id()),
        "admin.discord_metadata_registered",
        None,
        client,
        json!({ "keys": records.iter().map(|r| r.key.clone()).collect::<Vec<_>>() }),
    )
    .await?;
    Ok(records)
}

pub async fn status(state: &AppState, _admin: &Admin) -> Result<DiscordStatus, AppError> {
    let discord = &state.config.discord;
    let (discord_metadata, discord_error) = if discord.bot_token.is_some() {
        match registered(&api::Api::of(state)).await {
            Ok(records) => (Some(records), None),
            Err(e) => (None, Some(e)),
        }
    } else {
        (
            None,
            Some("DISCORD_BOT_TOKEN is not set: Slipway cannot read or register metadata.".into()),
        )
    };
    let failures = db::discord::failing(&state.db)
        .await
        .map_err(|e| internal("list failing role connections", e))?
        .into_iter()
        .map(|(username, row)| DiscordFailure {
            username,
            attempts: row.attempts,
            last_error: row.last_error.unwrap_or_default(),
            refused: row.refused,
            next_attempt_at: row
                .next_attempt_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
        .collect();
    Ok(DiscordStatus {
        application_id: discord.application_id.clone(),
        bot_token_set: discord.bot_token.is_some(),
        public_key_set: discord.public_key.is_some(),
        verification_url: format!("{}/discord/linked-role", state.public_url),
        interactions_url: format!("{}/discord/interactions", state.public_url),
        slipway_metadata: slipway_records(),
        discord_metadata,
        discord_error,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str) -> DiscordMetadataRecord {
        DiscordMetadataRecord {
            key: key.into(),
            name: "Name".into(),
            description: "Description".into(),
            kind: 2,
        }
    }

    #[test]
    fn discords_limits_are_checked_before_sending() {
        assert_eq!(validate(&slipway_records()), Ok(()));
        let six: Vec<_> = (0..6).map(|i| record(&format!("k{i}"))).collect();
        assert!(validate(&six).unwrap_err().contains("at most 5"));
        assert!(validate(&six[..5]).is_ok());
        for bad in ["Bad", "has-dash", "", &"x".repeat(51), "spaced key"] {
            assert!(
                validate(&[record(bad)]).unwrap_err().contains("key"),
                "{bad:?}"
            );
        }
        assert!(validate(&[record(&"x".repeat(50))]).is_ok());
        let mut long = record("ok");
        long.name = "n".repeat(101);
        assert!(validate(&[long.clone()]).unwrap_err().contains("name"));
        long.name = "n".repeat(100);
        long.description = "d".repeat(201);
        assert!(validate(&[long]).unwrap_err().contains("description"));
        let mut typed = record("ok");
        typed.kind = 9;
        assert!(validate(&[typed.clone()]).unwrap_err().contains("type"));
        typed.kind = 0;
        assert!(validate(&[typed]).is_err());
        assert!(validate(&[record("same"), record("same")])
            .unwrap_err()
            .contains("twice"));
        let mut empty = record("ok");
        empty.name.clear();
        assert!(validate(&[empty]).is_err());
    }
}
