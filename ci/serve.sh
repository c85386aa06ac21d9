#!/usr/bin/env bash
# Build minnow (release) and serve it on four fresh drive directories in a
# temp dir, on 127.0.0.1:9000 (MINNOW_ADDRESS overrides), in the foreground.
# Credentials: MINNOW_ROOT_USER / MINNOW_ROOT_PASSWORD, else the default
# pair minnowadmin / minnowadmin. Ctrl-C stops it; the drives stay in the
# temp dir it prints (MINNOW_DRIVES_DIR=DIR reuses a directory instead).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release --bin minnow

address="${MINNOW_ADDRESS:-127.0.0.1:9000}"
dir="${MINNOW_DRIVES_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/minnow.XXXXXX")}"
fs="$(stat -f -c %T "$dir" 2>/dev/null || echo unknown)"
if [[ "$fs" == "tmpfs" || "$fs" == "ramfs" ]]; then
    echo "ci/serve.sh: $dir is on $fs, which has no O_DIRECT: set MINNOW_DRIVES_DIR to a directory on a real disk" >&2
    exit 1
fi
mkdir -p "$dir"/disk{1..4}
echo "minnow drives: $dir/disk{1...4}"
exec target/release/minnow server --address "$address" "$dir/disk{1...4}"
