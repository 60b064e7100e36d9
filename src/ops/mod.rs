//! One module per command: plain options in, effects and messages out.

pub mod dash;
pub mod doctor;
pub mod init;
pub mod mcp;
pub mod query;
pub mod serve;
