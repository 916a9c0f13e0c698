//! The yardstick of `scripts/bench-reads.sh`: a bare axum server answering `GET /` with a
//! small JSON body, built with the same axum, tokio and release profile as `mhp`. The read
//! path's figures are printed as ratios to this one, measured in the same run, so that they
//! mean the same on any machine.
//!
//! ```sh
//! cargo run --release -p mhp-server --example baseline -- 127.0.0.1:0
//! ```
//! It prints `listening ADDR` on stdout once it accepts connections.
#![allow(clippy::print_stdout)]

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening {}", listener.local_addr()?);
    let app = Router::new().route(
        "/",
        get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"{"status":"ok"}"#,
            )
        }),
    );
    axum::serve(listener, app).await
}
