pub mod meminfo;
