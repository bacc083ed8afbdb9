mod account;
mod discord_connection;
mod login;
mod register;
mod sign_in_methods;

pub use account::AccountPage;
pub use discord_connection::DiscordLinkPage;
pub use login::LoginPage;
pub use register::RegisterPage;
