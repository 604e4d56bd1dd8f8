"""The /scan router: what it serves, what it refuses, the service worker's asset list, and the same
list from the standalone build."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.scan import ScannerFiles, make_router
from silktrace.config import PROJECT_ROOT


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(make_router())
    return TestClient(app)


def test_root_redirects_and_serves_the_page_with_a_strict_policy(client: TestClient) -> None:
    r = client.get("/scan", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/scan/"
    r = client.get("/scan/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    importmap = re.search(r'<script type="importmap">(.*?)</script>', r.text, re.S)
    assert importmap is not None
    digest = base64.b64encode(hashlib.sha256(importmap.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "default-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "camera=(self)" in r.headers["permissions-policy"]
    etag = r.headers["etag"]
    assert client.get("/scan/", headers={"If-None-Match": etag}).status_code == 304


def test_every_asset_is_served_with_its_type(client: TestClient) -> None:
    files = ScannerFiles()
    for rel in files.assets():
        r = client.get("/scan/" + ("" if rel == "./" else rel))
        assert r.status_code == 200, rel
    types = {
        "manifest.webmanifest": "application/manifest+json",
        "js/app.js": "text/javascript",
        "vendor/zxing-wasm/reader/zxing_reader.wasm": "application/wasm",
        "icons/icon.svg": "image/svg+xml",
    }
    for rel, media in types.items():
        assert client.get("/scan/" + rel).headers["content-type"].startswith(media), rel
    manifest = client.get("/scan/manifest.webmanifest").json()
    assert manifest["start_url"] == "./" and manifest["display"] == "standalone"


@pytest.mark.parametrize(
    "path",
    [
        "/scan/build.mjs",
        "/scan/../pyproject.toml",
        "/scan/%2e%2e/pyproject.toml",
        "/scan/vendor/zxing-wasm/../package.json",
        "/scan/vendor/zxing-wasm/%2e%2e/package.json",
        "/scan/vendor/@noble/curves/package.json",
        "/scan/vendor/@noble/curves/src/ed25519.ts",
        "/scan/vendor/solc/soljson.js",
        "/scan/vendor/@foundry-rs/anvil/package.json",
        "/scan/dist/index.html",
        "/scan/nothing.js",
    ],
)
def test_refuses_anything_else(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_service_worker_lists_every_asset_and_a_content_version(client: TestClient) -> None:
    r = client.get("/scan/sw.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    files = ScannerFiles()
    assert f"const VERSION = {json.dumps(files.version())};" in r.text
    assert "const ASSETS = " + json.dumps(files.assets(), separators=(",", ":")) + ";" in r.text
    assets = files.assets()
    # the app, the decoder and its wasm, and the whole import graph of the signature check
    for rel in (
        "index.html",
        "js/app.js",
        "js/decoder-worker.js",
        "manifest.webmanifest",
        "vendor/zxing-wasm/es/share.js",
        "vendor/zxing-wasm/reader/zxing_reader.wasm",
        "vendor/@noble/curves/abstract/edwards.js",
        "vendor/@noble/hashes/sha2.js",
    ):
        assert rel in assets, rel
    assert "sw.js" not in assets and "build.mjs" not in assets


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_standalone_build_matches_what_the_api_serves(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [
            "node",
            str(PROJECT_ROOT / "scanner-app/build.mjs"),
            "--out",
            str(out),
            "--resolver",
            "https://id.example.com",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    files = ScannerFiles()
    sw = (out / "sw.js").read_text()
    assert f"const VERSION = {json.dumps(files.version())};" in sw
    assert "const ASSETS = " + json.dumps(files.assets(), separators=(",", ":")) + ";" in sw
    for rel in files.assets()[1:]:
        if rel == "index.html":  # differs by the resolver's URL only
            continue
        served = files.app_file(rel)
        assert served is not None
        assert (out / rel).read_bytes() == served.read_bytes(), rel
    assert (
        '<meta name="silktrace-resolver" content="https://id.example.com">'
        in (out / "index.html").read_text()
    )
