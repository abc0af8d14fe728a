//! `test-report`: the native edge. Everything it does to the outside world happens in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
