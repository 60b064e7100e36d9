use std::process::ExitCode;

fn real_main() -> ExitCode {
    ExitCode::SUCCESS
}

macro_rules! entry {
    ($f:ident) => {
        fn main() -> ExitCode {
            $f()
        }
    };
}

entry!(real_main);
