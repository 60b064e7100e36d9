//! A library.

pub mod math;

pub use math::add;
