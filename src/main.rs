use std::process::ExitCode;

// The check allocates many small trees on every thread; glibc's allocator
// spends a third of the run on them and on contention between threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    metriclint::cli::main()
}
