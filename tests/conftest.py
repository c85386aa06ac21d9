"""Fixtures shared by every integration test file.

- `tmp_root` (session): a fresh directory on a real disk (never tmpfs: the
  server writes its shards with O_DIRECT). MINNOW_TEST_TMPDIR picks its parent.
- `start_server` (function): a factory; every server it starts is stopped at
  the end of the test, and the test fails if the server panicked.
- `server`, `s3`, `aws` (module): one 4-drive server per test file with a
  boto3 client and an `aws` CLI runner bound to it.
- `bucket` (function): a fresh bucket on the module server.

When a test fails, the tails of the logs of the servers it used are attached
to its report. MINNOW_KEEP_TMP=1 keeps the drive directories after the run.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import harness
from harness import AwsCli, Server, empty_and_delete, unique_bucket

# Keep every client on loopback, whatever the environment says.
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _var in list(os.environ):
    if _var.startswith("AWS_"):
        del os.environ[_var]
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

_counter = itertools.count(1)
_session_failed = False


def _pick_tmp_parent() -> Path:
    chosen = os.environ.get("MINNOW_TEST_TMPDIR")
    if chosen:
        parent = Path(chosen)
        parent.mkdir(parents=True, exist_ok=True)
        if harness.fs_type(parent) in ("tmpfs", "ramfs"):
            pytest.exit(f"MINNOW_TEST_TMPDIR={parent} is {harness.fs_type(parent)}: drives need a real disk (O_DIRECT)", 2)
        return parent
    parent = Path(tempfile.gettempdir())
    if harness.fs_type(parent) in ("tmpfs", "ramfs"):
        parent = harness.REPO / "target" / "test-tmp"
        parent.mkdir(parents=True, exist_ok=True)
        if harness.fs_type(parent) in ("tmpfs", "ramfs"):
            pytest.exit("no real-disk temp directory found: set MINNOW_TEST_TMPDIR", 2)
    return parent


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: moves 64 MiB or more")


def pytest_sessionstart(session):
    if not harness.MINNOW_BIN.exists() and not session.config.option.collectonly:
        pytest.exit(
            f"minnow binary not found at {harness.MINNOW_BIN}: build it (cargo build --release) or set MINNOW_BIN",
            2,
        )


@pytest.fixture(scope="session")
def tmp_root():
    parent = _pick_tmp_parent()
    root = Path(tempfile.mkdtemp(prefix="minnow-tests-", dir=parent))
    yield root
    if os.environ.get("MINNOW_KEEP_TMP") or _session_failed:
        print(f"\nminnow test data kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


def _new_workdir(tmp_root: Path, label: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:60]
    d = tmp_root / f"{next(_counter):03d}-{safe}"
    d.mkdir(parents=True)
    return d


def _finish_server(srv: Server) -> list[str]:
    """Stop a server; the problems found (panics, early death)."""
    problems = []
    if srv.died_unexpectedly():
        problems.append(f"{srv.name} exited by itself with code {srv.proc.returncode}")
    srv.stop()
    panics = srv.panic_lines()
    if panics:
        problems.append(f"{srv.name} panicked: {panics[:3]}")
    if not os.environ.get("MINNOW_KEEP_TMP"):
        for p in srv.drive_paths:
            shutil.rmtree(p, ignore_errors=True)
    return problems


@pytest.fixture
def start_server(request, tmp_root):
    """Factory: start_server(drives=4, env=None, args=None, cores=None, wait=True, ...) -> Server.
    spawn=False only creates it (for tests that start it themselves, e.g. expecting a refusal)."""
    started: list[Server] = []

    def start(drives=4, *, wait=True, spawn=True, timeout=60.0, **kw) -> Server:
        workdir = _new_workdir(tmp_root, f"{request.node.name}-{len(started)}")
        kw.setdefault("name", f"minnow{len(started)}")
        srv = Server(workdir, drives, **kw)
        started.append(srv)
        if not spawn:
            return srv
        if wait:
            srv.start(timeout)
        else:
            srv.spawn()
        return srv

    start.workdir = lambda label="extra": _new_workdir(tmp_root, f"{request.node.name}-{label}")
    yield start
    problems = []
    for srv in started:
        problems += _finish_server(srv)
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def server(request, tmp_root):
    workdir = _new_workdir(tmp_root, request.module.__name__)
    srv = Server(workdir, 4, name="minnow")
    srv.start()
    yield srv
    alive = srv.is_running()
    problems = _finish_server(srv)
    if not alive:
        problems.insert(0, f"module server died during {request.module.__name__}")
    if problems:
        pytest.fail("; ".join(problems) + "\n" + srv.log_tail(), pytrace=False)


@pytest.fixture(scope="module")
def s3(server):
    return server.client()


@pytest.fixture(scope="module")
def aws(server, tmp_root, request):
    return AwsCli(server, _new_workdir(tmp_root, f"aws-{request.module.__name__}"))


@pytest.fixture
def bucket(server, s3):
    name = unique_bucket()
    s3.create_bucket(Bucket=name)
    yield name
    if server.is_running() and server.health(timeout=5) == 200:
        empty_and_delete(s3, name)


@pytest.fixture(autouse=True)
def _module_server_guard(request):
    """After each test on the module server: if it stopped answering (hung or
    died), fail this test with its log tail and restart it on the same drives,
    so one hang does not take the rest of the file down with it."""
    yield
    if "server" not in request.fixturenames:
        return
    srv = request.getfixturevalue("server")
    if srv.is_running() and srv.health(timeout=5) == 200:
        return
    state = "died" if not srv.is_running() else "stopped answering /minio/health/ready"
    tail = srv.log_tail()
    srv.kill9()
    srv.start()
    pytest.fail(f"the module server {state} during this test; restarted it\n{tail}", pytrace=False)


# ---- failure reports: attach the server logs --------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item._minnow_servers_before = len(harness.ALL_SERVERS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    global _session_failed
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    _session_failed = True
    before = getattr(item, "_minnow_servers_before", 0)
    shown = set()
    for i, srv in enumerate(harness.ALL_SERVERS):
        if (i >= before or srv.is_running()) and id(srv) not in shown:
            shown.add(id(srv))
            rep.sections.append((f"minnow log tail: {srv.name} on {srv.address}", srv.log_tail()))
