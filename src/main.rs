//! The program: its command line is `memory_monitor::cli`.

fn main() -> std::process::ExitCode {
    memory_monitor::cli::main()
}
