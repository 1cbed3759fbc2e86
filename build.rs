//! The binding's build: napi-rs's link settings for a Node addon. The core's own build
//! (crates/core/build.rs) embeds Midnight's SRS, the built-in circuits and the parameter pins.
fn main() {
    napi_build::setup();
}
