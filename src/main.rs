fn main() -> std::process::ExitCode {
    slipway::server::main()
}
