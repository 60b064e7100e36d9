//! The built-in telemetry backend: OTLP over gRPC and HTTP in, a bounded
//! in-memory store, a web view and a terminal feed out. `cargo otel serve`
//! runs it alone; `cargo otel dash --backend local` runs a crate against it.
//! Other processes find it through [`discovery`] and read it with [`client`].

pub mod client;
pub mod collector;
pub mod discovery;
pub mod feed;
mod http;
pub mod limits;
mod listen;
pub mod model;
mod otlp_grpc;
mod otlp_http;
mod pipeline;
pub mod save;
mod server;
pub mod store;
pub mod web;

pub use collector::Sink;
pub use feed::Feed;
pub use limits::{Caps, Connections};
pub use server::{Backend, BackendConfig, Settings};
pub use store::{Held, LogRecordEntry, SpanRecord, Store};
