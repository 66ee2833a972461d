fn main() {
    let parts = eventlog_core::xapi::raw::sql::debug_parts();
    println!("{}", serde_json::to_string(&parts).unwrap());
}
