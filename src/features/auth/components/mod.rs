mod auth_context;
mod password_rules;
mod provider_buttons;
mod require_user;
mod user_menu;

pub use auth_context::{provide_auth, use_auth, Auth};
pub use password_rules::PasswordRules;
pub use provider_buttons::{encode_query_value, start_path, ProviderButtons, ProviderMark};
pub use require_user::{login_path_for, RequireUser};
pub use user_menu::UserMenu;
