//! Every fenced `sh`, `python` and `js` example in the README, run as
//! written, in order, in one scratch folder: shell with the built
//! `eventlog` on the PATH (and `cargo run -p eventlog --` taken by the
//! built binary: building it is the test command's job), against the local
//! S3 server and ClickHouse; Python in a fresh venv where `pip` installs
//! the wheel; JavaScript in a scratch npm project with the package.
//!
//! An example that must not run here says so in an HTML comment right
//! above its fence, with the reason: `<!-- example: not run: … -->`; one
//! that exits non-zero on purpose says `<!-- example: exits N (…) -->`.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use eventlog_tests::clickhouse::Engine;
use eventlog_tests::packages::{empty_venv, install, wheelhouse};
use eventlog_tests::{bin, repo, s3};

#[derive(Debug)]
struct Example {
    /// 1-based line of its opening fence.
    line: usize,
    lang: String,
    code: String,
    skip: Option<String>,
    exits: i32,
}

/// The fenced examples of `text`, with their annotations.
fn examples(text: &str) -> Vec<Example> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(lang) = lines[i].strip_prefix("```").filter(|l| !l.is_empty()) else {
            if lines[i].starts_with("```") {
                // An unlabelled block (a synopsis): skip to its end.
                i += 1;
                while i < lines.len() && !lines[i].starts_with("```") {
                    i += 1;
                }
            }
            i += 1;
            continue;
        };
        let note = i
            .checked_sub(1)
            .map(|k| lines[k].trim())
            .and_then(|l| l.strip_prefix("<!-- example:"))
            .and_then(|l| l.strip_suffix("-->"))
            .map(str::trim);
        let start = i;
        let mut code = String::new();
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            code.push_str(lines[i]);
            code.push('\n');
            i += 1;
        }
        i += 1;
        let skip = note
            .and_then(|n| n.strip_prefix("not run:"))
            .map(|r| r.trim().to_string());
        let exits = note
            .and_then(|n| n.strip_prefix("exits "))
            .and_then(|n| n.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        out.push(Example {
            line: start + 1,
            lang: lang.trim().to_string(),
            code,
            skip,
            exits,
        });
    }
    out
}

/// The scratch folder: the repository's test data and built packages,
/// where the examples expect them.
fn workspace(dir: &Path) -> PathBuf {
    let work = dir.join("work");
    std::fs::create_dir_all(work.join("target")).unwrap();
    symlink(repo().join("testdata"), work.join("testdata")).unwrap();
    symlink(repo().join("target/wasm"), work.join("target/wasm")).unwrap();
    work
}

/// `eventlog` on the PATH, and `cargo` that runs it for
/// `cargo run [--release] -p eventlog -- ARGS` (anything else fails: the
/// README has no other cargo example that runs here).
fn shims(dir: &Path) -> PathBuf {
    let bin_dir = dir.join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    symlink(bin("eventlog"), bin_dir.join("eventlog")).unwrap();
    let cargo = bin_dir.join("cargo");
    std::fs::write(
        &cargo,
        "#!/usr/bin/env bash\n\
         # The README's `cargo run -p eventlog -- ARGS`: the built binary.\n\
         args=(\"$@\"); i=0\n\
         while [ $i -lt ${#args[@]} ] && [ \"${args[$i]}\" != -- ]; do i=$((i+1)); done\n\
         case \" $* \" in *' run '*'-p eventlog '*) exec eventlog \"${args[@]:$((i+1))}\" ;; esac\n\
         echo \"readme test: unexpected cargo $*\" >&2; exit 97\n",
    )
    .unwrap();
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    bin_dir
}

/// What the examples talk to: S3 buckets with the objects they name, and
/// ClickHouse. Returns the environment for them.
fn services() -> Vec<(String, String)> {
    let endpoint = s3::endpoint();
    let client = s3::client(&endpoint);
    for bucket in ["submission-events", "torus-xapi"] {
        s3::ensure_bucket(&client, bucket);
    }
    // The golden files keep their folders (prod/, prod/2025/…): the S3
    // examples name the prefix prod/.
    let golden = repo().join("testdata/visit-events/golden/files");
    let mut dirs = vec![golden.clone()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let key = p
                .strip_prefix(&golden)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            s3::put(
                &client,
                "submission-events",
                &key,
                &std::fs::read(&p).unwrap(),
            );
        }
    }
    s3::put(
        &client,
        "torus-xapi",
        "section/2161/video/2025-10-07T15-04-10.000001Z_BB.jsonl",
        &std::fs::read(repo().join("testdata/xapi/examples-extra.jsonl")).unwrap(),
    );
    let engine = Engine::from_env();
    let mut env = s3::env_for(&endpoint);
    env.extend([
        ("CLICKHOUSE_URL".to_string(), engine.url.clone()),
        ("CLICKHOUSE_USER".to_string(), engine.user.clone()),
        ("CLICKHOUSE_PASSWORD".to_string(), engine.password.clone()),
    ]);
    env
}

fn run(ex: &Example, cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("README:{}: {e}", ex.line));
    assert_eq!(
        out.status.code(),
        Some(ex.exits),
        "README:{} ({}) exited {:?}, not {}:\n{}\n--- stdout\n{}\n--- stderr\n{}",
        ex.line,
        ex.lang,
        out.status.code(),
        ex.exits,
        ex.code,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_readme_example_runs_as_written() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let all = examples(&readme);
    let langs = ["sh", "python", "js"];
    assert!(all.iter().any(|e| e.lang == "python") && all.iter().any(|e| e.lang == "js"));
    for e in &all {
        if let Some(reason) = &e.skip {
            assert!(
                reason.len() > 10,
                "README:{}: say why it is not run",
                e.line
            );
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let work = workspace(dir.path());
    let path = format!(
        "{}:{}",
        shims(dir.path()).display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let venv = empty_venv(dir.path());
    let venv_path = format!("{}:{path}", venv.join("bin").display());
    let (project, _, _) = install("pkg-node", "eventlog-validator", dir.path());
    let env = services();
    let mut ran = 0;
    for (k, e) in all.iter().enumerate() {
        if e.skip.is_some() || !langs.contains(&e.lang.as_str()) {
            continue;
        }
        ran += 1;
        match e.lang.as_str() {
            "sh" => run(
                e,
                Command::new("bash")
                    .args(["-euo", "pipefail", "-c", &e.code])
                    .current_dir(&work)
                    .envs(env.iter().map(|(a, b)| (a, b)))
                    .env("PATH", &venv_path)
                    .env("PIP_NO_INDEX", "1")
                    .env("PIP_FIND_LINKS", wheelhouse()),
            ),
            "python" => {
                let file = work.join(format!("example_{k}.py"));
                std::fs::write(&file, &e.code).unwrap();
                run(
                    e,
                    Command::new(venv.join("bin/python"))
                        .arg(&file)
                        .current_dir(&work),
                );
            }
            "js" => {
                let file = project.join(format!("example_{k}.cjs"));
                std::fs::write(&file, &e.code).unwrap();
                run(e, Command::new("node").arg(&file).current_dir(&project));
            }
            _ => unreachable!(),
        }
    }
    assert!(ran >= 6, "{ran} examples ran");
    // What the examples made is there: the checkpoints, the report, the
    // event the Python example logged.
    assert!(work.join("checkpoints/adrc/form/events.parquet").exists());
    assert!(work.join("report/index.html").exists());
    assert!(
        work.join("events/prod/log-submit-20250318-202250-42-ingest-form-899485-2025-03-03.json")
            .exists()
    );
}
