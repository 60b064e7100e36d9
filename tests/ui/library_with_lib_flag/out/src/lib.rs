//! A library.

pub mod math;
pub mod otel;

pub use math::add;
