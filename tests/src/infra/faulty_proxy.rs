//! An HTTP proxy between a client and a server (S3, ClickHouse) that
//! answers a fraction of requests with `503 SlowDown` (without forwarding
//! them) and delays the others, to prove the client's retries keep the
//! results exact; and that can go down like a stopped server, after a
//! number of requests or when the test says so: from then on every
//! connection is dropped without an answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub struct FaultyProxy {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
    pub injected: Arc<AtomicU64>,
    /// Requests forwarded before the proxy goes down (0: never).
    pub down_after: Arc<AtomicU64>,
    pub down: Arc<AtomicBool>,
}

impl FaultyProxy {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Go down after `n` more forwarded requests.
    pub fn go_down_after(&self, n: u64) {
        let seen = self.requests.load(Ordering::SeqCst);
        self.down_after.store(seen + n, Ordering::SeqCst);
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if !down {
            self.down_after.store(0, Ordering::SeqCst);
        }
    }
}

/// The server went away: the connection closes without an answer.
#[derive(Debug)]
struct Gone;

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the proxied server is down")
    }
}

impl std::error::Error for Gone {}

/// Forward to `upstream` (e.g. `http://127.0.0.1:5000`); every `fail_every`-th
/// request gets a 503, the others wait up to `max_delay`.
pub fn start(upstream: &str, fail_every: u64, max_delay: Duration) -> FaultyProxy {
    let upstream: hyper::Uri = upstream.parse().expect("upstream url");
    let requests = Arc::new(AtomicU64::new(0));
    let injected = Arc::new(AtomicU64::new(0));
    let down_after = Arc::new(AtomicU64::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let (req_count, inj_count) = (requests.clone(), injected.clone());
    let (cut, is_down) = (down_after.clone(), down.clone());
    super::runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (client, upstream, req_count, inj_count) = (client.clone(), upstream.clone(), req_count.clone(), inj_count.clone());
            let (cut, is_down) = (cut.clone(), is_down.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let (client, upstream, req_count, inj_count) = (client.clone(), upstream.clone(), req_count.clone(), inj_count.clone());
                    let (cut, is_down) = (cut.clone(), is_down.clone());
                    async move {
                        let limit = cut.load(Ordering::SeqCst);
                        if is_down.load(Ordering::SeqCst) || (limit > 0 && req_count.load(Ordering::SeqCst) >= limit) {
                            is_down.store(true, Ordering::SeqCst);
                            return Err(Gone);
                        }
                        let n = req_count.fetch_add(1, Ordering::SeqCst) + 1;
                        if fail_every > 0 && n % fail_every == 0 {
                            inj_count.fetch_add(1, Ordering::SeqCst);
                            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                            return Ok::<_, Gone>(Response::builder().status(StatusCode::SERVICE_UNAVAILABLE).header("content-type", "application/xml").body(Full::new(Bytes::from(body))).expect("response"));
                        }
                        let delay = (n * 7919) % (max_delay.as_millis() as u64 + 1);
                        tokio::time::sleep(Duration::from_millis(delay)).await;
                        Ok(forward(&client, &upstream, req).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    FaultyProxy {
        addr,
        requests,
        injected,
        down_after,
        down,
    }
}

async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &hyper::Uri,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return error(format!("reading request: {e}")),
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!(
        "{}://{}{}",
        upstream.scheme_str().unwrap_or("http"),
        upstream.authority().map(|a| a.as_str()).unwrap_or(""),
        path
    )
    .parse()
    .expect("uri");
    let resp = match client
        .request(Request::from_parts(parts, Full::new(body)))
        .await
    {
        Ok(r) => r,
        Err(e) => return error(format!("upstream: {e}")),
    };
    let (parts, body) = resp.into_parts();
    match body.collect().await {
        Ok(b) => Response::from_parts(parts, Full::new(b.to_bytes())),
        Err(e) => error(format!("reading response: {e}")),
    }
}

fn error(msg: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .body(Full::new(Bytes::from(msg)))
        .expect("response")
}
