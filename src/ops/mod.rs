//! One module per command: plain options in, effects and messages out.

pub mod init;
