//! The built packages as a user gets them: the Python wheel in a fresh
//! venv, an npm package packed and installed into a scratch project.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{repo, run_ok as run};

/// The built wheel.
pub fn wheel() -> PathBuf {
    let dir = repo().join("target/wasm/python");
    let version = env!("CARGO_PKG_VERSION");
    let p = dir.join(format!("eventlog_validator-{version}-py3-none-any.whl"));
    assert!(
        p.exists(),
        "{} is missing: run scripts/build-wasm.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

/// Where scripts/setup.sh keeps the wasmtime wheel, so installing needs no
/// network during the tests.
pub fn wheelhouse() -> PathBuf {
    let tools = std::env::var("EVENTLOG_TOOLS").unwrap_or_else(|_| {
        format!(
            "{}/.cache/eventlog",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    PathBuf::from(tools).join("wheels")
}

/// A fresh venv under `dir` with the wheel installed (and nothing else but
/// wasmtime).
pub fn venv(dir: &Path) -> PathBuf {
    let env = empty_venv(dir);
    run(Command::new(env.join("bin/pip"))
        .args(["install", "-q", "--no-index", "--find-links"])
        .arg(wheelhouse())
        .arg(wheel()));
    env
}

/// A fresh venv under `dir`, with nothing installed; `pip` installs from
/// the wheelhouse only (`PIP_NO_INDEX`, `PIP_FIND_LINKS` for its users).
pub fn empty_venv(dir: &Path) -> PathBuf {
    let env = dir.join("venv");
    run(Command::new("python3").args(["-m", "venv"]).arg(&env));
    env
}

/// `npm pack` of a package built in `target/wasm/<pkg>` into `dest`; the
/// tarball's path.
pub fn pack(pkg: &str, dest: &Path) -> PathBuf {
    let dir = repo().join("target/wasm").join(pkg);
    assert!(
        dir.join("package.json").exists(),
        "{} is missing: run scripts/build-wasm.sh (scripts/test.sh does)",
        dir.display()
    );
    let out = run(Command::new("npm")
        .args(["pack", "--silent", "--pack-destination"])
        .arg(dest)
        .current_dir(&dir));
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    dest.join(name.lines().last().unwrap_or_default())
}

/// A scratch project in `dir` with the tarball installed (no registry
/// needed: the package has no dependencies).
pub fn scratch(tarball: &Path, dir: &Path) {
    std::fs::write(
        dir.join("package.json"),
        r#"{"name":"scratch","private":true}"#,
    )
    .unwrap();
    run(Command::new("npm")
        .args([
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--silent",
        ])
        .arg(tarball)
        .current_dir(dir));
}

/// The package built in `target/wasm/<pkg>`, packed and installed into a
/// scratch project under `dir`: the project and the installed package's
/// folder and `package.json`.
pub fn install(pkg: &str, name: &str, dir: &Path) -> (PathBuf, PathBuf, serde_json::Value) {
    let tarball = pack(pkg, dir);
    let project = dir.join("project");
    std::fs::create_dir(&project).unwrap();
    scratch(&tarball, &project);
    let installed = project.join("node_modules").join(name);
    let meta =
        serde_json::from_slice(&std::fs::read(installed.join("package.json")).unwrap()).unwrap();
    (project, installed, meta)
}
