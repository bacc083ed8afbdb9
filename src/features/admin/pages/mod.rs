mod audit;
mod discord;
mod providers;
mod require_admin;
mod settings;
mod users;

pub use audit::AdminAuditPage;
pub use discord::AdminDiscordPage;
pub use providers::AdminProvidersPage;
pub use settings::AdminSettingsPage;
pub use users::AdminUsersPage;
