mod audit;
mod require_admin;
mod settings;
mod users;

pub use audit::AdminAuditPage;
pub use settings::AdminSettingsPage;
pub use users::AdminUsersPage;
