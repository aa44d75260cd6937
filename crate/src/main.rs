#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    gatito::cli::main()
}

// The command line is native only; the wasm build is the library the page loads.
#[cfg(target_arch = "wasm32")]
fn main() {}
