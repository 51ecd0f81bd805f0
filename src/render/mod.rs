//! Rendering the model as the text logs show it: every decision about what a reader sees is
//! here (escaping untrusted bytes, one decimal for %CPU, widths, alignment, units). Pure.

pub mod context;
pub mod details;
pub mod facts;
pub mod header;
pub mod incident;
pub mod memory;
pub mod oom;
pub mod table;
