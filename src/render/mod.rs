pub mod details;
pub mod header;
pub mod table;
