#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| eventlog_fuzz_harness::xapi_raw_object(data));
