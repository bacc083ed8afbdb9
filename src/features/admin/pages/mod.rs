mod audit;
mod providers;
mod require_admin;
mod settings;
mod users;

pub use audit::AdminAuditPage;
pub use providers::AdminProvidersPage;
pub use settings::AdminSettingsPage;
pub use users::AdminUsersPage;
