//! `POST /discord/interactions`: Discord's HTTP interactions. Every request is checked
//! against `DISCORD_PUBLIC_KEY` (Ed25519 over `X-Signature-Timestamp` + the raw body; Discord
//! sends bad signatures on purpose to check), must be recent and is accepted once. PING gets
//! PONG; the slash commands `/deployments`, `/status` and `/redeploy` answer the Slipway
//! account the Discord member linked.

use std::time::Duration;

use ed25519_dalek::{Signature, VerifyingKey};
use fred::{
    interfaces::KeysInterface,
    types::{Expiration, SetOptions},
};
use serde_json::{json, Value};

use super::{api, PROVIDER};
use crate::{
    features::deployments::types::{Deployment, ReleaseState},
    server::{
        auth::service,
        db::{self, users::UserRow},
        deploy, AppState,
    },
};

/// A signed request older (or newer) than this is refused.
const MAX_SKEW_SECS: i64 = 5 * 60;
/// Interaction ids are remembered this long to refuse a replay.
const SEEN_TTL_SECS: i64 = 15 * 60;
/// Messages only the asker sees.
const EPHEMERAL: u64 = 1 << 6;

const PONG: u8 = 1;
const CHANNEL_MESSAGE: u8 = 4;
const DEFERRED_CHANNEL_MESSAGE: u8 = 5;

/// Verifies Discord's signature: Ed25519 (RFC 8032, strict) of `timestamp ‖ body`.
pub fn verify(public_key: &[u8; 32], signature_hex: &str, timestamp: &str, body: &[u8]) -> bool {
    let Some(signature) = decode_hex::<64>(signature_hex) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    let mut message = Vec::with_capacity(timestamp.len() + body.len());
    message.extend_from_slice(timestamp.as_bytes());
    message.extend_from_slice(body);
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .is_ok()
}

fn decode_hex<const N: usize>(hex: &str) -> Option<[u8; N]> {
    if hex.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The answer to one request: `None` is 401 (not from Discord, stale, or a replay).
pub async fn handle(
    state: &AppState,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: &[u8],
) -> Option<Value> {
    let public_key = state.config.discord.public_key.as_ref()?;
    let (signature, timestamp) = (signature?, timestamp?);
    if !verify(public_key, signature, timestamp, body) {
        return None;
    }
    let sent_at: i64 = timestamp.parse().ok()?;
    if (chrono::Utc::now().timestamp() - sent_at).abs() > MAX_SKEW_SECS {
        return None;
    }
    let interaction: Value = serde_json::from_slice(body).ok()?;
    let id = interaction["id"].as_str()?;
    // A signed request is accepted once: a captured one cannot be sent again.
    let first: Option<String> = state
        .redis
        .set(
            format!("{}discord:interaction:{id}", state.config.redis_key_prefix),
            "1",
            Some(Expiration::EX(SEEN_TTL_SECS)),
            Some(SetOptions::NX),
            false,
        )
        .await
        .ok()?;
    first.as_ref()?;
    Some(match interaction["type"].as_u64() {
        Some(1) => json!({ "type": PONG }),
        Some(2) => command(state, &interaction).await,
        _ => message("Slipway does not handle that kind of interaction."),
    })
}

fn message(content: impl Into<String>) -> Value {
    let mut content: String = content.into();
    if content.chars().count() > 2000 {
        content = content.chars().take(1990).collect::<String>() + "…";
    }
    json!({
        "type": CHANNEL_MESSAGE,
        "data": { "content": content, "flags": EPHEMERAL, "allowed_mentions": { "parse": [] } },
    })
}

/// The Slipway account linked to the member who asked.
async fn linked_user(state: &AppState, interaction: &Value) -> Option<UserRow> {
    let discord_id = interaction["member"]["user"]["id"]
        .as_str()
        .or_else(|| interaction["user"]["id"].as_str())?;
    let identity = db::identities::find(&state.db, PROVIDER, discord_id)
        .await
        .ok()??;
    service::enabled_user(state, identity.user_id).await.ok()?
}

fn option<'a>(interaction: &'a Value, name: &str) -> Option<&'a str> {
    interaction["data"]["options"]
        .as_array()?
        .iter()
        .find(|o| o["name"] == name)?["value"]
        .as_str()
}

async fn command(state: &AppState, interaction: &Value) -> Value {
    let name = interaction["data"]["name"].as_str().unwrap_or_default();
    let Some(user) = linked_user(state, interaction).await else {
        return message(format!(
            "Your Discord account is not linked to a Slipway account yet. Link it here: {}/discord/linked-role",
            state.public_url
        ));
    };
    match name {
        "deployments" => deployments(state, &user).await,
        "status" => {
            status(
                state,
                &user,
                option(interaction, "name").unwrap_or_default(),
            )
            .await
        }
        "redeploy" => redeploy(state, &user, interaction).await,
        other => message(format!("Slipway has no command `/{other}`.")),
    }
}

fn line(d: &Deployment) -> String {
    format!("**{}** — {} — <{}>", d.name, d.state.as_str(), d.url)
}

async fn deployments(state: &AppState, user: &UserRow) -> Value {
    match deploy::service::list(state, user, false).await {
        Ok(list) if list.is_empty() => message("You have no deployments yet."),
        Ok(list) => message(
            std::iter::once(format!("Your deployments ({}):", list.len()))
                .chain(list.iter().map(|d| format!("• {}", line(d))))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        Err(e) => message(format!("Slipway could not list your deployments: {e}")),
    }
}

/// A deployment by name or subdomain: the member's own, or anyone's for an admin.
async fn find(state: &AppState, user: &UserRow, name: &str, all: bool) -> Option<Deployment> {
    let name = name.trim();
    deploy::service::list(state, user, all)
        .await
        .ok()?
        .into_iter()
        .find(|d| d.subdomain.eq_ignore_ascii_case(name) || d.name.eq_ignore_ascii_case(name))
}

async fn status(state: &AppState, user: &UserRow, name: &str) -> Value {
    let admin = deploy::service::is_admin(user);
    let Some(d) = find(state, user, name, admin).await else {
        return message(format!("You have no deployment named `{}`.", name.trim()));
    };
    let release = d
        .current_release
        .as_ref()
        .or(d.latest_release.as_ref())
        .map(|r| {
            format!(
                " · release #{}{}",
                r.number,
                r.commit_sha
                    .as_deref()
                    .map(|sha| format!(" ({})", &sha[..sha.len().min(7)]))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let error = d
        .error
        .as_deref()
        .map(|e| format!("\n{e}"))
        .unwrap_or_default();
    message(format!("{}{release}{error}", line(&d)))
}

async fn redeploy(state: &AppState, user: &UserRow, interaction: &Value) -> Value {
    let name = option(interaction, "name").unwrap_or_default();
    // Only the member's own deployments: an admin's power stays in the admin's browser.
    let Some(d) = find(state, user, name, false).await else {
        return message(format!(
            "You can only redeploy your own deployments, and you have none named `{}`.",
            name.trim()
        ));
    };
    // Discord is the client: no address of the member's is known.
    let via_discord = service::Client::default();
    let redeployed = match deploy::service::redeploy(state, user, &via_discord, &d.id).await {
        Ok(d) => d,
        Err(e) => return message(format!("Slipway could not redeploy **{}**: {e}", d.name)),
    };
    let Some(token) = interaction["token"].as_str().map(str::to_owned) else {
        return message(format!("Redeploying **{}**.", d.name));
    };
    let state = state.clone();
    tokio::spawn(async move { report_redeploy(&state, &token, redeployed).await });
    // Deferred: Discord shows "thinking…" until the original message is edited.
    json!({ "type": DEFERRED_CHANNEL_MESSAGE, "data": { "flags": EPHEMERAL } })
}

/// Edits the deferred answer with the release being built, then follows up with its outcome.
async fn report_redeploy(state: &AppState, token: &str, d: Deployment) {
    let release = d.latest_release.clone();
    let number = release.as_ref().map_or(0, |r| r.number);
    let edit = json!({ "content": format!("Redeploying **{}**: release #{number} is on its way.", d.name) });
    if let Err(e) = api::edit_original(&api::Api::of(state), token, &edit).await {
        tracing::warn!(error = %e, "cannot edit a Discord interaction's answer");
    }
    let Some(release) = release.and_then(|r| uuid::Uuid::parse_str(&r.id).ok()) else {
        return;
    };
    let deadline = tokio::time::Instant::now()
        + state.config.deploy.build_timeout
        + state.config.deploy.health_timeout
        + Duration::from_secs(60);
    let outcome = loop {
        match db::deployments::find_release(&state.db, release).await {
            Ok(Some(r)) => match ReleaseState::parse(&r.state) {
                Some(ReleaseState::Running | ReleaseState::Superseded) => {
                    break format!("**{}** release #{number} is live: <{}>", d.name, d.url)
                }
                Some(ReleaseState::Failed) => {
                    break format!(
                        "**{}** release #{number} failed: {}",
                        d.name,
                        r.error.unwrap_or_else(|| "see its build log".into())
                    )
                }
                _ => {}
            },
            Ok(None) => {
                break format!(
                    "**{}** was deleted before release #{number} finished.",
                    d.name
                )
            }
            Err(e) => tracing::warn!(error = %e, "reading a release for Discord"),
        }
        if tokio::time::Instant::now() > deadline {
            break format!(
                "**{}** release #{number} is still not done; see Slipway.",
                d.name
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    let follow =
        json!({ "content": outcome, "flags": EPHEMERAL, "allowed_mentions": { "parse": [] } });
    if let Err(e) = api::follow_up(&api::Api::of(state), token, &follow).await {
        tracing::warn!(error = %e, "cannot send a Discord follow-up");
    }
}

/// The commands Slipway registers (`make discord-commands`): global, for guilds and DMs.
pub fn commands() -> Value {
    let name_option = |what: &str| json!([{ "type": 3, "name": "name", "description": what, "required": true, "max_length": 100 }]);
    json!([
        { "name": "deployments", "type": 1, "description": "List your Slipway deployments" },
        { "name": "status", "type": 1, "description": "Show a deployment's state, release and URL",
          "options": name_option("The deployment's name or subdomain") },
        { "name": "redeploy", "type": 1, "description": "Build and release a deployment's branch again",
          "options": name_option("One of your deployments, by name or subdomain") },
    ])
}

/// Registers [`commands`] for the application (a full replacement).
pub async fn register_commands(api: &api::Api<'_>) -> Result<Value, String> {
    api::put_commands(api, &commands())
        .await
        .map_err(|e| e.to_string())
}

/// `POST /api/v1/admin/discord/commands`.
pub async fn register_as(
    state: &AppState,
    admin: &crate::server::auth::admin::Admin,
    client: &service::Client,
) -> Result<Value, crate::error::AppError> {
    let commands = register_commands(&api::Api::of(state))
        .await
        .map_err(|message| crate::error::AppError::Unavailable { message })?;
    service::audit(
        state,
        Some(admin.id()),
        "admin.discord_commands_registered",
        None,
        client,
        json!({}),
    )
    .await?;
    Ok(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex<const N: usize>(s: &str) -> [u8; N] {
        decode_hex::<N>(s).expect("hex")
    }

    /// RFC 8032 §7.1, TEST 1 to 3: the verifier accepts the vectors and refuses any change.
    #[test]
    fn rfc_8032_vectors_verify_and_any_change_breaks_them() {
        let vectors = [
            (
                "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                "",
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            ),
            (
                "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "72",
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
            ),
            (
                "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
                "af82",
                "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
            ),
        ];
        for (key, message_hex, signature) in vectors {
            let key: [u8; 32] = hex(key);
            let message: Vec<u8> = (0..message_hex.len() / 2)
                .map(|i| u8::from_str_radix(&message_hex[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            // Discord's message is timestamp ‖ body: an empty timestamp leaves the vector as is.
            assert!(verify(&key, signature, "", &message), "{message_hex}");
            let mut flipped = message.clone();
            flipped.push(0);
            assert!(!verify(&key, signature, "", &flipped));
            let mut bad_signature = signature.to_owned().into_bytes();
            bad_signature[0] = if bad_signature[0] == b'0' { b'1' } else { b'0' };
            assert!(!verify(
                &key,
                std::str::from_utf8(&bad_signature).unwrap(),
                "",
                &message
            ));
            let mut other_key = key;
            other_key[31] ^= 1;
            assert!(!verify(&other_key, signature, "", &message));
            assert!(!verify(&key, "nothex", "", &message));
        }
    }
}
