//! The crate dependency direction of ARCHITECTURE.md section 1, checked from `cargo metadata`:
//! `net` depends on neither `io` nor `codec`, `io` at most on `codec`, `codec` on no other
//! minnow crate and not on glommio (it stays pure: no I/O, no async).

use std::process::Command;

fn dependencies(metadata: &serde_json::Value, package: &str) -> Vec<String> {
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("package {package} not in the workspace"))["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .filter(|d| d["kind"].is_null())
        .map(|d| d["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn crate_dependencies_point_down() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("metadata is JSON");

    let net = dependencies(&metadata, "minnow-net");
    assert!(
        !net.iter().any(|d| d == "minnow-io" || d == "minnow-codec"),
        "net must not depend on io or codec: {net:?}"
    );
    let io = dependencies(&metadata, "minnow-io");
    assert!(
        !io.iter().any(|d| d == "minnow-net"),
        "io must not depend on net: {io:?}"
    );
    let codec = dependencies(&metadata, "minnow-codec");
    assert!(
        !codec
            .iter()
            .any(|d| d.starts_with("minnow") || d == "glommio"),
        "codec must stay pure: {codec:?}"
    );
    let server = dependencies(&metadata, "minnow");
    for lower in ["minnow-codec", "minnow-io", "minnow-net"] {
        assert!(
            server.iter().any(|d| d == lower),
            "the server wires {lower}"
        );
    }
}
