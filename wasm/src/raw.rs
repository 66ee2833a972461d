//! A C ABI for wasm hosts without JavaScript (wasmtime, wasmer, …).
//!
//! All lengths are bytes; text is UTF-8; pointers are offsets into the
//! module's exported `memory`.
//!
//! * `alloc(len) -> ptr`: reserve `len` bytes for an input.
//! * `validate(input_ptr, input_len, name_ptr, name_len) -> u64`: validate
//!   the file bytes at `input_ptr` (a name of length 0 means none). The
//!   result is a UTF-8 JSON report (the CLI's `--format json` line) at
//!   `result >> 32`, `result & 0xffff_ffff` bytes long, owned by the caller.
//! * `check_xapi(input_ptr, input_len, name_ptr, name_len) -> u64`: the
//!   same for an xAPI JSONL document; the result is the JSON Lines of
//!   `eventlog xapi check --format json`.
//! * `check_xapi_raw(input_ptr, input_len, name_ptr, name_len) -> u64`: the
//!   raw-events target's check (`eventlog xapi check --target raw-events
//!   --format json`).
//! * `free(ptr, len)`: release a buffer from `alloc` or a result.
//! * `version() -> u64`: the version string, as `validate` returns text.
//!
//! A host: `p = alloc(n)`, write the bytes, `r = validate(p, n, 0, 0)`,
//! read the report, `free(r >> 32, r & 0xffffffff)`, `free(p, n)`.

fn give(bytes: Vec<u8>) -> u64 {
    let boxed = bytes.into_boxed_slice();
    let len = boxed.len() as u64;
    let ptr = Box::into_raw(boxed) as *mut u8 as usize as u64;
    (ptr << 32) | len
}

#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let boxed = vec![0u8; len].into_boxed_slice();
    Box::into_raw(boxed) as *mut u8
}

/// # Safety
/// `ptr` and `len` must come from `alloc` or a `validate`/`version` result,
/// and each buffer must be freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: per the contract above, this is a boxed slice of `len` bytes.
    drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(ptr, len)) });
}

/// # Safety
/// `input_ptr..+input_len` and `name_ptr..+name_len` must be readable
/// memory of this module (`name_len` 0 means no name).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn validate(
    input_ptr: *const u8,
    input_len: usize,
    name_ptr: *const u8,
    name_len: usize,
) -> u64 {
    // SAFETY: forwarded contract.
    unsafe { with_input(input_ptr, input_len, name_ptr, name_len, crate::report_json) }
}

/// # Safety
/// As [`validate`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn check_xapi(
    input_ptr: *const u8,
    input_len: usize,
    name_ptr: *const u8,
    name_len: usize,
) -> u64 {
    // SAFETY: forwarded contract.
    unsafe {
        with_input(
            input_ptr,
            input_len,
            name_ptr,
            name_len,
            crate::xapi_report_jsonl,
        )
    }
}

/// # Safety
/// As [`validate`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn check_xapi_raw(
    input_ptr: *const u8,
    input_len: usize,
    name_ptr: *const u8,
    name_len: usize,
) -> u64 {
    // SAFETY: forwarded contract.
    unsafe {
        with_input(
            input_ptr,
            input_len,
            name_ptr,
            name_len,
            crate::xapi_raw_report_jsonl,
        )
    }
}

/// The text `eventlog validate` prints for one file (no summary line);
/// `color` non-zero for a terminal's colours.
///
/// # Safety
/// As [`validate`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn validate_text(
    input_ptr: *const u8,
    input_len: usize,
    name_ptr: *const u8,
    name_len: usize,
    color: u32,
) -> u64 {
    let report: fn(&[u8], Option<&str>) -> String = if color != 0 {
        |i: &[u8], n: Option<&str>| crate::report_text(i, n, true)
    } else {
        |i: &[u8], n: Option<&str>| crate::report_text(i, n, false)
    };
    // SAFETY: forwarded contract.
    unsafe { with_input(input_ptr, input_len, name_ptr, name_len, report) }
}

/// # Safety
/// As [`validate`].
unsafe fn with_input(
    input_ptr: *const u8,
    input_len: usize,
    name_ptr: *const u8,
    name_len: usize,
    report: fn(&[u8], Option<&str>) -> String,
) -> u64 {
    // SAFETY: the caller passes buffers it allocated with `alloc` and filled.
    let input = if input_len == 0 {
        &[][..]
    } else {
        unsafe { core::slice::from_raw_parts(input_ptr, input_len) }
    };
    let name = if name_len == 0 || name_ptr.is_null() {
        None
    } else {
        // SAFETY: as above.
        let raw = unsafe { core::slice::from_raw_parts(name_ptr, name_len) };
        Some(String::from_utf8_lossy(raw).into_owned())
    };
    give(report(input, name.as_deref()).into_bytes())
}

#[unsafe(no_mangle)]
pub extern "C" fn version() -> u64 {
    give(crate::version().as_bytes().to_vec())
}
