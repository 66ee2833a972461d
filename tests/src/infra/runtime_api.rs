//! The AWS Lambda Runtime API (2018-06-01), served on 127.0.0.1 so the real
//! `bootstrap` binary can be driven as Lambda drives it: it polls
//! `invocation/next`, and posts `response` or `error`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// What the function answered.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct State {
    queue: VecDeque<(String, Value)>,
    results: Vec<(String, Outcome)>,
    init_error: Option<String>,
    /// Each invocation's time (the function's timeout); 120 s unless set.
    timeout: Option<std::time::Duration>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    notify: Arc<tokio::sync::Notify>,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let state = Arc::new(Mutex::new(State::default()));
        let notify = Arc::new(tokio::sync::Notify::new());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind runtime api");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let (st, nt) = (state.clone(), notify.clone());
        super::runtime().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (st, nt) = (st.clone(), nt.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(st.clone(), nt.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        RuntimeApi {
            addr,
            state,
            notify,
        }
    }

    /// A command for a Lambda bootstrap binary with the environment the
    /// Lambda service gives a function (this API's address, its name,
    /// version, memory and log names), output piped; the test adds its own.
    pub fn function(&self, binary: &str, name: &str, memory_mb: u32) -> std::process::Command {
        let mut cmd = std::process::Command::new(crate::bin(binary));
        cmd.env("AWS_LAMBDA_RUNTIME_API", self.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test-stream")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    }

    /// What the function reported to `/runtime/init/error`, if anything.
    pub fn init_error(&self) -> Option<String> {
        self.state.lock().unwrap().init_error.clone()
    }

    /// Give the next invocations this long (their deadline header).
    pub fn set_timeout(&self, timeout: Duration) {
        self.state.lock().unwrap().timeout = Some(timeout);
    }

    /// Queue an invocation and wait for the function's answer.
    pub fn invoke(&self, request_id: &str, event: Value, timeout: Duration) -> Outcome {
        {
            let mut s = self.state.lock().unwrap();
            s.queue.push_back((request_id.to_string(), event));
        }
        self.notify.notify_waiters();
        let start = std::time::Instant::now();
        loop {
            {
                let s = self.state.lock().unwrap();
                if let Some((_, o)) = s.results.iter().find(|(id, _)| id == request_id) {
                    return o.clone();
                }
                if let Some(e) = &s.init_error {
                    panic!("function failed to initialise: {e}");
                }
            }
            assert!(
                start.elapsed() < timeout,
                "no answer to {request_id} within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn reply(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

async fn handle(
    state: Arc<Mutex<State>>,
    notify: Arc<tokio::sync::Notify>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, parts.as_slice()) {
        (Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => loop {
            let waiter = notify.notified();
            let next = {
                let mut s = state.lock().unwrap();
                let timeout = s.timeout.unwrap_or(std::time::Duration::from_secs(120));
                s.queue.pop_front().map(|q| (q, timeout))
            };
            if let Some(((id, event), timeout)) = next {
                let deadline = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
                    + timeout.as_millis();
                let resp = Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "application/json")
                    .header("Lambda-Runtime-Aws-Request-Id", id.as_str())
                    .header("Lambda-Runtime-Deadline-Ms", deadline.to_string())
                    .header(
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:123456789012:function:event-log-checkpoint",
                    )
                    .header(
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-00000000-000000000000000000000000;Sampled=0",
                    )
                    .body(Full::new(Bytes::from(event.to_string())))
                    .expect("response");
                return Ok(resp);
            }
            tokio::select! {
                _ = waiter => {}
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        },
        (
            Method::POST,
            [
                "2018-06-01",
                "runtime",
                "invocation",
                id,
                kind @ ("response" | "error"),
            ],
        ) => {
            let v: Value = serde_json::from_slice(&body)
                .unwrap_or(Value::String(String::from_utf8_lossy(&body).into_owned()));
            let outcome = if *kind == "response" {
                Outcome::Response(v)
            } else {
                Outcome::Error(v)
            };
            state
                .lock()
                .unwrap()
                .results
                .push((id.to_string(), outcome));
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            state.lock().unwrap().init_error = Some(String::from_utf8_lossy(&body).into_owned());
            Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
        }
        _ => Ok(reply(
            StatusCode::NOT_FOUND,
            r#"{"errorMessage":"unknown path"}"#,
        )),
    }
}

/// Stop a function process by PID and return what it printed: the whole
/// stdout and its JSON lines.
pub fn stop_and_read(mut child: std::process::Child) -> (String, Vec<Value>) {
    use std::io::Read;
    let _ = std::process::Command::new("kill")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout).expect("function stdout");
    }
    let lines = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (stdout, lines)
}
