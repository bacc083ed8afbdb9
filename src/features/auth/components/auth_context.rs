use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::{
    error::AppError,
    features::auth::{
        api::{current_user, ChangePassword, Login, Logout, Register},
        types::Me,
    },
};

/// Who is signed in, and the actions that change it, shared by every page.
#[derive(Clone, Copy)]
pub struct Auth {
    pub login: ServerAction<Login>,
    pub logout: ServerAction<Logout>,
    pub register: ServerAction<Register>,
    pub change_password: ServerAction<ChangePassword>,
    pub user: Resource<Result<Option<Me>, AppError>>,
}

/// Must run inside the router: the user is re-read on every navigation, so an account that
/// was disabled or signed out elsewhere loses its pages at the next click.
pub fn provide_auth() {
    let login = ServerAction::<Login>::new();
    let logout = ServerAction::<Logout>::new();
    let register = ServerAction::<Register>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let path = use_location().pathname;
    let user = Resource::new(
        move || {
            (
                login.version().get(),
                logout.version().get(),
                register.version().get(),
                path.get(),
            )
        },
        |_| current_user(),
    );
    provide_context(Auth {
        login,
        logout,
        register,
        change_password,
        user,
    });
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
