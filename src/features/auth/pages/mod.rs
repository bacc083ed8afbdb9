mod account;
mod login;
mod register;
mod sign_in_methods;

pub use account::AccountPage;
pub use login::LoginPage;
pub use register::RegisterPage;
