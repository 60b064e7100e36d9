mod otel;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _otel = otel::init();
    otel::main_result(main_body().await)
}

async fn main_body() -> Result<(), Box<dyn std::error::Error>> {
    let addr = "127.0.0.1:50051".parse()?;
    tonic::transport::Server::builder()
        .layer(otel::grpc_server_layer())
        .add_routes(tonic::service::Routes::default())
        .serve(addr)
        .await?;
    Ok(())
}
