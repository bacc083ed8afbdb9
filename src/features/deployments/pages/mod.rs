mod dashboard;
mod detail;
mod new;
mod webhook;

pub use dashboard::Dashboard;
pub use detail::DeploymentPage;
pub use new::{parse_dotenv, NewDeploymentPage};
