//! An HTTP proxy between a client and a server (S3, ClickHouse) that
//! injects the faults real deployments show: a fraction of requests answered
//! `503 SlowDown` (without forwarding them), delays, a server that goes
//! down (every connection dropped without an answer), and S3-compatible
//! servers' quirks (listings without ETags, GETs without Content-Length or
//! ETag, a prefix where writes are denied).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = BoxBody<Bytes, std::convert::Infallible>;

/// Which faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Every n-th request gets a 503 SlowDown (0: none).
    pub fail_every: u64,
    /// Forwarded requests wait up to this long (spread pseudo-randomly).
    pub max_delay: Duration,
    /// Every forwarded request waits at least this long (a round trip).
    pub base_delay: Duration,
    /// Every n-th forwarded request waits `slow_delay` more (0: none): the
    /// tail of a remote store's latency.
    pub slow_every: u64,
    pub slow_delay: Duration,
    /// ListObjectsV2 answers without `<ETag>` (as s3s-fs sends them).
    pub strip_list_etags: bool,
    /// GET answers without Content-Length (chunked).
    pub hide_get_length: bool,
    /// GET and HEAD answers without an ETag header.
    pub strip_get_etag: bool,
}

pub struct FaultyProxy {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicU64>,
    /// ListObjectsV2 requests seen (forwarded or not).
    pub listings: Arc<AtomicU64>,
    pub injected: Arc<AtomicU64>,
    /// Requests forwarded before the proxy goes down (0: never).
    pub down_after: Arc<AtomicU64>,
    pub down: Arc<AtomicBool>,
    /// PUTs whose path contains this are answered 403 AccessDenied.
    pub deny_put: Arc<Mutex<Option<String>>>,
    /// Which requests are accepted and never answered.
    pub silent: Arc<Mutex<Silence>>,
    /// What becomes of the second and later GETs of one object.
    pub later_gets: Arc<Mutex<Option<(String, LaterGet)>>>,
    /// GETs of that object since [`FaultyProxy::later_gets`].
    pub gets_of_key: Arc<AtomicU64>,
}

/// A fault for the second and later GETs of an object: what a loader that
/// reads an object twice (once to judge it, once to insert it) must
/// survive between its two reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaterGet {
    /// The answer promises the whole object and the connection closes
    /// after this many bytes of it.
    Cut(usize),
    /// Same ETag, same length, but every `from` byte in the second half
    /// of the body becomes `to`: the object changed under a version check
    /// that did not see it.
    Replace { from: u8, to: u8 },
}

/// Requests the proxy takes and never answers: a server that accepts
/// connections and then says nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Silence {
    #[default]
    None,
    All,
    /// PUTs (writes) only: reads go through.
    Puts,
}

impl FaultyProxy {
    /// From now on, take these requests and never answer them.
    pub fn set_silent(&self, which: Silence) {
        *self.silent.lock().unwrap() = which;
    }

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

    /// From now on, GETs of the object whose path ends with `key` meet
    /// `fault` from their second on (`None`: no fault). The count starts
    /// again with each call.
    pub fn later_gets(&self, fault: Option<(&str, LaterGet)>) {
        *self.later_gets.lock().unwrap() = fault.map(|(k, f)| (k.to_string(), f));
        self.gets_of_key.store(0, Ordering::SeqCst);
    }

    /// Deny PUTs whose path contains `part` (`None`: allow all).
    pub fn deny_puts(&self, part: Option<&str>) {
        *self.deny_put.lock().unwrap() = part.map(str::to_string);
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
    start_with(
        upstream,
        Options {
            fail_every,
            max_delay,
            ..Options::default()
        },
    )
}

#[derive(Clone)]
struct Shared {
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: hyper::Uri,
    options: Options,
    requests: Arc<AtomicU64>,
    listings: Arc<AtomicU64>,
    injected: Arc<AtomicU64>,
    down_after: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    deny_put: Arc<Mutex<Option<String>>>,
    silent: Arc<Mutex<Silence>>,
    later_gets: Arc<Mutex<Option<(String, LaterGet)>>>,
    gets_of_key: Arc<AtomicU64>,
}

pub fn start_with(upstream: &str, options: Options) -> FaultyProxy {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let shared = Shared {
        client: Client::builder(TokioExecutor::new()).build_http(),
        upstream: upstream.parse().expect("upstream url"),
        options,
        requests: Arc::new(AtomicU64::new(0)),
        listings: Arc::new(AtomicU64::new(0)),
        injected: Arc::new(AtomicU64::new(0)),
        down_after: Arc::new(AtomicU64::new(0)),
        down: Arc::new(AtomicBool::new(false)),
        deny_put: Arc::new(Mutex::new(None)),
        silent: Arc::new(Mutex::new(Silence::None)),
        later_gets: Arc::new(Mutex::new(None)),
        gets_of_key: Arc::new(AtomicU64::new(0)),
    };
    let proxy = FaultyProxy {
        addr,
        requests: shared.requests.clone(),
        listings: shared.listings.clone(),
        injected: shared.injected.clone(),
        down_after: shared.down_after.clone(),
        down: shared.down.clone(),
        deny_put: shared.deny_put.clone(),
        silent: shared.silent.clone(),
        later_gets: shared.later_gets.clone(),
        gets_of_key: shared.gets_of_key.clone(),
    };
    super::runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let shared = shared.clone();
                    async move { serve(&shared, req).await }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    proxy
}

fn full(status: StatusCode, body: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from(body)).boxed())
        .expect("response")
}

async fn serve(s: &Shared, req: Request<Incoming>) -> Result<Response<Body>, Gone> {
    let silence = *s.silent.lock().unwrap();
    if silence == Silence::All || (silence == Silence::Puts && req.method() == Method::PUT) {
        return std::future::pending().await;
    }
    let limit = s.down_after.load(Ordering::SeqCst);
    if s.down.load(Ordering::SeqCst) || (limit > 0 && s.requests.load(Ordering::SeqCst) >= limit) {
        s.down.store(true, Ordering::SeqCst);
        return Err(Gone);
    }
    let n = s.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if req.method() == Method::GET && req.uri().query().is_some_and(|q| q.contains("list-type=2")) {
        s.listings.fetch_add(1, Ordering::SeqCst);
    }
    let o = &s.options;
    if o.fail_every > 0 && n.is_multiple_of(o.fail_every) {
        s.injected.fetch_add(1, Ordering::SeqCst);
        return Ok(full(
            StatusCode::SERVICE_UNAVAILABLE,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>",
        ));
    }
    let denied = s.deny_put.lock().unwrap().clone();
    if req.method() == Method::PUT && denied.is_some_and(|d| req.uri().path().contains(d.as_str()))
    {
        s.injected.fetch_add(1, Ordering::SeqCst);
        return Ok(full(
            StatusCode::FORBIDDEN,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
        ));
    }
    let spread = Duration::from_millis((n * 7919) % (o.max_delay.as_millis() as u64 + 1));
    let slow = o.slow_every > 0 && n.is_multiple_of(o.slow_every);
    let tail = if slow { o.slow_delay } else { Duration::ZERO };
    tokio::time::sleep(o.base_delay + spread + tail).await;
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let listing = get && req.uri().query().is_some_and(|q| q.contains("list-type=2"));
    let later = (req.method() == Method::GET && !listing)
        .then(|| later_get(s, req.uri().path()))
        .flatten();
    let (mut parts, body) = forward(&s.client, &s.upstream, req).await.into_parts();
    if let Some(fault) = later.filter(|_| parts.status.is_success()) {
        s.injected.fetch_add(1, Ordering::SeqCst);
        return Ok(Response::from_parts(parts, later_body(fault, body)));
    }
    if listing && o.strip_list_etags {
        let text = String::from_utf8_lossy(&body).into_owned();
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while let Some(i) = rest.find("<ETag>") {
            out.push_str(&rest[..i]);
            rest = rest[i..]
                .find("</ETag>")
                .map_or("", |j| &rest[i + j + "</ETag>".len()..]);
        }
        out.push_str(rest);
        parts.headers.remove("content-length");
        return Ok(Response::from_parts(
            parts,
            Full::new(Bytes::from(out)).boxed(),
        ));
    }
    if get && !listing && o.strip_get_etag {
        parts.headers.remove("etag");
    }
    if get && !listing && o.hide_get_length && parts.status.is_success() {
        parts.headers.remove("content-length");
        let chunks: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = body
            .chunks(4096)
            .map(|c| Ok(Frame::data(Bytes::copy_from_slice(c))))
            .collect();
        return Ok(Response::from_parts(
            parts,
            StreamBody::new(futures::stream::iter(chunks)).boxed(),
        ));
    }
    Ok(Response::from_parts(parts, Full::new(body).boxed()))
}

/// The fault for this GET, when it is a later GET of the chosen object.
fn later_get(s: &Shared, path: &str) -> Option<LaterGet> {
    let chosen = s.later_gets.lock().unwrap().clone();
    let (key, fault) = chosen.filter(|(k, _)| path.ends_with(k.as_str()))?;
    let n = s.gets_of_key.fetch_add(1, Ordering::SeqCst) + 1;
    (n >= 2).then_some(fault).filter(|_| !key.is_empty())
}

/// The body a later GET gets. A cut keeps the headers' Content-Length and
/// sends its bytes and the headers before it stops (a pause makes the
/// server flush them), so the reader fails in the middle of the body, not
/// before it.
fn later_body(fault: LaterGet, body: Bytes) -> Body {
    match fault {
        LaterGet::Cut(n) => {
            let head = body.slice(..n.min(body.len()));
            let pause = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(Frame::data(Bytes::new()))
            });
            let frames =
                futures::StreamExt::chain(futures::stream::iter([Ok(Frame::data(head))]), pause);
            StreamBody::new(frames).boxed()
        }
        LaterGet::Replace { from, to } => {
            let half = body.len() / 2;
            let mut b = body.to_vec();
            for c in &mut b[half..] {
                if *c == from {
                    *c = to;
                }
            }
            Full::new(Bytes::from(b)).boxed()
        }
    }
}

async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &hyper::Uri,
    req: Request<Incoming>,
) -> Response<Bytes> {
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
        Ok(b) => Response::from_parts(parts, b.to_bytes()),
        Err(e) => error(format!("reading response: {e}")),
    }
}

fn error(msg: String) -> Response<Bytes> {
    Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .body(Bytes::from(msg))
        .expect("response")
}
