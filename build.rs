//! The binding's build: napi-rs's link settings for a Node addon. The proving crate's build
//! (crates/proving/build.rs) embeds Midnight's SRS, the built-in circuits and the parameter pins.
fn main() {
    napi_build::setup();
}
