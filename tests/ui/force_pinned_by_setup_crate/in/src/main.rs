fn main() { telemetry_setup::install(); }
