"""The `silktrace` command as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from silktrace.chain import connect
from tests.conftest import free_port

SILKTRACE = [sys.executable, "-m", "silktrace.cli"]


def _env(tmp_path: Path, chain_port: int, api_port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SILKTRACE_DATA_DIR": str(tmp_path / "data"),
        "SILKTRACE_CHAIN_PORT": str(chain_port),
        "SILKTRACE_RPC_URL": f"http://127.0.0.1:{chain_port}",
        "SILKTRACE_API_PORT": str(api_port),
        "SILKTRACE_API_RESOLVER_BASE_URL": f"http://127.0.0.1:{api_port}",
    }


def test_status_reports_what_is_down(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port(), free_port())
    out = subprocess.run([*SILKTRACE, "status", "--json"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["chain"]["up"] is False and info["api"]["up"] is False
    assert "silktrace deploy" in info["deployment"]["error"]


def test_deploy_failsIfNoChain(tmp_path: Path) -> None:
    env = _env(tmp_path, free_port(), free_port())
    out = subprocess.run(
        [*SILKTRACE, "deploy"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    assert "chain_unreachable" in out.stderr and "Traceback" not in out.stderr


def _start_up(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*SILKTRACE, "up"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(errors="replace")
        if text in content:
            return content
        assert proc.poll() is None, f"silktrace up exited early:\n{content}"
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not printed within {timeout}s:\n{log.read_text()}")


@pytest.mark.slow
def test_up_starts_everything_prints_demo_links_and_resumes(tmp_path: Path) -> None:
    chain_port, api_port = free_port(), free_port()
    env = _env(tmp_path, chain_port, api_port)
    log = tmp_path / "up.log"
    proc = _start_up(env, log)
    try:
        out = _wait_for(log, "SilkTrace is running", proc, 300)
        assert f"http://127.0.0.1:{api_port}/scan" in out
        assert "demo item" in out and "/01/" in out
        assert httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=5).status_code == 200
        head = connect(f"http://127.0.0.1:{chain_port}").eth.block_number
        assert head > 5  # the demo scenario's transactions
        status = subprocess.run(
            [*SILKTRACE, "status", "--json"], env=env, capture_output=True, text=True
        )
        info = json.loads(status.stdout)
        assert (
            info["chain"]["up"]
            and info["api"]["up"]
            and info["indexer"]["indexed_block"] is not None
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0, log.read_text()
    assert "stopped" in log.read_text()

    log = tmp_path / "up-again.log"
    proc = _start_up(env, log)
    try:
        out = _wait_for(log, "SilkTrace is running", proc, 300)
        assert "resuming" in out and "already deployed" in out
        assert connect(f"http://127.0.0.1:{chain_port}").eth.block_number >= head
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
