use axum::{routing::get, Router};

pub fn app() -> Router {
    Router::new()
        .route("/", get(root))
        .nest("/users", users())
}

fn users() -> Router {
    Router::new().route("/{id}", get(root))
}

async fn root() -> &'static str {
    "hello"
}
