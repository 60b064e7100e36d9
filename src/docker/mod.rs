//! The Docker Engine API (through bollard) for `cargo otel dash --backend
//! docker`: finding the daemon, the dashboard image and its container.

pub mod container;
pub mod discover;
pub mod image;

pub use container::{AspireContainer, AspireSpec};
pub use discover::Daemon;
pub use image::PullPolicy;

/// The .NET Aspire dashboard: the `13` tag gets servicing updates without a
/// surprise major version bump.
pub const DEFAULT_IMAGE: &str = "mcr.microsoft.com/dotnet/aspire-dashboard:13";
