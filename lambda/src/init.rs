//! A function that cannot start says why to the Lambda Runtime API
//! (`/runtime/init/error`), so the console and the caller see the
//! configuration error itself rather than "Runtime exited".

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Report `message` as the init error `kind` (e.g.
/// `Runtime.ConfigurationError`) when running under the Runtime API, and
/// log it in any case. Best effort: the process exits after this.
pub async fn report(kind: &str, message: &str) {
    tracing::error!(
        error_type = kind,
        error = message,
        "the function cannot start"
    );
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({"errorMessage": message, "errorType": kind}).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\n\
         Lambda-Runtime-Function-Error-Type: {kind}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let send = async {
        let mut stream = tokio::net::TcpStream::connect(&api).await?;
        stream.write_all(request.as_bytes()).await?;
        // Read the answer so the API has taken the report before we exit.
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.map(|_| ())
    };
    if let Err(e) = tokio::time::timeout(std::time::Duration::from_secs(2), send)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
    {
        tracing::error!(error = %e, "the init error could not be reported to the Runtime API");
    }
}
