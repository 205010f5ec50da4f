fn main() -> std::process::ExitCode {
    kickstart::main()
}
