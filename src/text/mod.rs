//! Text for people and from outside, shared by every step: escaping untrusted bytes, sizes,
//! durations, and reading numbers.

pub mod duration;
pub mod escape;
pub mod number;
pub mod size;
