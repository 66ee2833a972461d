#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| eventlog_fuzz_harness::report_reader(data));
