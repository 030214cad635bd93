use std::process::ExitCode;

fn main() -> ExitCode {
    metriclint::cli::main()
}
