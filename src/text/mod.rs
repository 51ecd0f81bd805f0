pub mod duration;
pub mod escape;
pub mod size;
