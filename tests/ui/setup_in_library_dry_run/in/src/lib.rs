pub mod telemetry;
