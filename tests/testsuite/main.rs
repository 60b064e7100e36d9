//! The integration tests, one binary with a module per area (as cargo's own
//! testsuite is laid out): each links the library once, and the helpers in
//! [`support`] are one module. Fixture trees stay under `tests/` (`fixtures/`,
//! `ui/`, `python/`).
//!
//! One area: `cargo test --test testsuite <module>::`, e.g. `ui::`.

mod backend_hardening;
mod backend_protocols;
mod backend_python;
mod dashboard_v2;
mod docker_dash;
mod docker_infra;
mod doctor;
mod e2e_init;
mod e2e_production;
mod e2e_services;
mod init_files;
mod queries;
mod support;
mod template;
mod ui;
mod watch;
mod web_ui;
