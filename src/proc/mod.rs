pub mod details;
pub mod users;
