pub mod ps;
pub mod top;
