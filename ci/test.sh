#!/usr/bin/env bash
# The one test command (README, .ci/run): format check, one release build,
# clippy, the crates' unit tests, then the integration tests in tests/ that
# start the real binary and drive it with the aws CLI and boto3.
#
# Idempotent. Needs cargo (rustup, with rustfmt and clippy) and python3 with
# pip; installs the pinned Python clients (tests/requirements.txt) into
# .venv/ in the repo. Extra arguments go to pytest, e.g.
#   ci/test.sh -k multipart -x
# Environment:
#   MINNOW_CI_SKIP_CARGO=1   skip fmt/build/clippy/cargo test (binary must exist)
#   MINNOW_TEST_TMPDIR=DIR   where the tests put their drive dirs (not tmpfs)
#   MINNOW_KEEP_TMP=1        keep the drive dirs after the run
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
VENV="$REPO/.venv"
LOGDIR="$REPO/target/ci"
mkdir -p "$LOGDIR"

SUMMARY=()
CURRENT=""
STEP_START=0
RUN_START=$(date +%s)

step() {
    CURRENT="$1"
    STEP_START=$(date +%s)
    echo
    echo "==> [$(date +%H:%M:%S)] $CURRENT"
}

done_step() {
    SUMMARY+=("$(printf '  ok    %-44s %5ss' "$CURRENT" "$(($(date +%s) - STEP_START))")")
    CURRENT=""
}

finish() {
    local rc=$?
    if [[ -n "$CURRENT" ]]; then
        SUMMARY+=("$(printf '  FAIL  %-44s %5ss' "$CURRENT" "$(($(date +%s) - STEP_START))")")
    fi
    echo
    echo "==> ci/test.sh summary ($(($(date +%s) - RUN_START))s)"
    printf '%s\n' "${SUMMARY[@]}"
    if [[ $rc -ne 0 ]]; then
        echo "ci/test.sh: FAILED at: ${CURRENT:-setup} (exit $rc)" >&2
    fi
    exit $rc
}
trap finish EXIT

die() {
    echo "ci/test.sh: $*" >&2
    exit 1
}

# ---- tools ------------------------------------------------------------------------
step "check tools"
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup"
cargo fmt --version >/dev/null 2>&1 || die "rustfmt missing: rustup component add rustfmt"
cargo clippy --version >/dev/null 2>&1 || die "clippy missing: rustup component add clippy"
PYTHON="$(command -v python3 || true)"
[[ -n "$PYTHON" ]] || die "python3 not found"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' \
    || die "python3 >= 3.9 needed, found $("$PYTHON" --version 2>&1)"
echo "cargo: $(cargo --version)"
echo "python: $("$PYTHON" --version 2>&1)"
done_step

# ---- python clients (pinned) ---------------------------------------------------------
step "python clients (.venv, tests/requirements.txt)"
REQ="$REPO/tests/requirements.txt"
STAMP="$VENV/.requirements.sha256"
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ ! -x "$VENV/bin/python" ]] || [[ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]]; then
    if ! "$PYTHON" -m venv --clear "$VENV" >/dev/null 2>&1; then
        # Debian without python3-venv: a venv without pip, then bootstrap pip from the system.
        rm -rf "$VENV"
        "$PYTHON" -m venv --without-pip "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
        "$PYTHON" -m pip --python "$VENV/bin/python" --version >/dev/null 2>&1 \
            || die "cannot install into $VENV: apt-get install python3-venv"
        PIP=("$PYTHON" -m pip --python "$VENV/bin/python")
    else
        PIP=("$VENV/bin/python" -m pip)
    fi
    "${PIP[@]}" install --quiet --disable-pip-version-check -r "$REQ" \
        || die "pip install -r tests/requirements.txt failed"
    echo "$want" >"$STAMP"
else
    echo "up to date ($VENV)"
fi
"$VENV/bin/aws" --version
"$VENV/bin/python" -c 'import boto3, botocore, pytest; print("boto3", boto3.__version__, "botocore", botocore.__version__, "pytest", pytest.__version__)'
done_step

CARGO_LOG="$LOGDIR/cargo-test.log"
: >"$CARGO_LOG"
if [[ "${MINNOW_CI_SKIP_CARGO:-}" != "1" ]]; then
    # ---- rust --------------------------------------------------------------------
    step "cargo fmt --check"
    cargo fmt --all -- --check || die "code is not rustfmt-clean: run cargo fmt -p <crate>"
    done_step

    step "cargo build --release (workspace, all targets)"
    cargo build --release --workspace --all-targets
    done_step

    step "cargo clippy -D warnings"
    cargo clippy --release --workspace --all-targets -- -D warnings
    done_step

    step "cargo test --release"
    cargo test --release --workspace 2>&1 | tee "$CARGO_LOG" || die "cargo test failed"
    done_step
fi

# ---- integration tests ---------------------------------------------------------------
export MINNOW_BIN="${MINNOW_BIN:-$REPO/target/release/minnow}"
[[ -x "$MINNOW_BIN" ]] || die "minnow binary not found at $MINNOW_BIN"

step "pytest tests/ (integration, real binary)"
JUNIT="$LOGDIR/pytest-junit.xml"
rm -f "$JUNIT"
set +e
"$VENV/bin/python" -m pytest tests/ --junitxml="$JUNIT" "$@"
PYTEST_RC=$?
set -e
case $PYTEST_RC in
0) ;;
5) die "pytest collected no tests" ;;
*) die "pytest failed (exit $PYTEST_RC)" ;;
esac
done_step

# ---- counts ----------------------------------------------------------------------------
read -r PY_PASSED PY_FAILED PY_SKIPPED < <("$VENV/bin/python" - "$JUNIT" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
tests = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - failed - skipped, failed, skipped)
EOF
)
CARGO_PASSED=$({ grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$CARGO_LOG" || true; } | awk '{s+=$4} END {print s+0}')
CARGO_FAILED=$({ grep -Eo '[0-9]+ failed' "$CARGO_LOG" || true; } | awk '{s+=$1} END {print s+0}')
[[ "$PY_PASSED" -gt 0 ]] || die "no integration test passed"
SUMMARY+=("  cargo test: $CARGO_PASSED passed, $CARGO_FAILED failed")
SUMMARY+=("  pytest:     $PY_PASSED passed, $PY_FAILED failed, $PY_SKIPPED skipped")
trap - EXIT
CURRENT=""
finish_ok() {
    echo
    echo "==> ci/test.sh summary ($(($(date +%s) - RUN_START))s)"
    printf '%s\n' "${SUMMARY[@]}"
    echo "minnow: $((CARGO_PASSED + PY_PASSED)) passed, $((CARGO_FAILED + PY_FAILED)) failed, $PY_SKIPPED skipped"
}
finish_ok
