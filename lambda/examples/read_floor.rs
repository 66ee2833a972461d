//! The floor for `eventlog validate DIR` (bench/validate_files.py): walk
//! the directory in name order and read every `*.json` file whole, nothing
//! else. Prints the number of files and bytes read.
//!
//!     cargo run --release -p eventlog --example read_floor -- DIR

fn main() {
    let dir = std::env::args_os().nth(1).expect("a directory");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("read the directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    let mut bytes = 0usize;
    for p in &names {
        bytes += std::fs::read(p).map(|b| b.len()).unwrap_or(0);
    }
    println!("{} files, {bytes} bytes", names.len());
}
