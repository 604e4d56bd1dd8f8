"""The consumer's scanner app at /scan: its files, the vendored npm modules it imports, the PWA
manifest and a service worker that lists every asset to cache for offline use.

The app has no build step: `scanner-app/` is served as it is, and the few npm modules it imports
(zxing-wasm's reader and its .wasm, @noble/curves and @noble/hashes) are served from
`node_modules/` under `/scan/vendor/`, restricted to the files the browser needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from silktrace.config import PROJECT_ROOT

APP_DIR = PROJECT_ROOT / "scanner-app"
NODE_MODULES = PROJECT_ROOT / "node_modules"

# URL prefix under /scan/vendor/ -> (package directory, subdirectory served)
VENDOR: dict[str, tuple[str, str]] = {
    "zxing-wasm": ("zxing-wasm", "dist"),
    "@noble/curves": ("@noble/curves", ""),
    "@noble/hashes": ("@noble/hashes", ""),
}
# Files of the app itself that are served; anything else under scanner-app/ is not.
APP_SUFFIXES = {".html", ".css", ".js", ".mjs", ".svg", ".png", ".webmanifest", ".json"}
APP_EXCLUDE = {"build.mjs"}
# Entry modules whose import graphs are precached, and other vendored files the app loads.
VENDOR_ENTRIES = [
    "vendor/zxing-wasm/es/reader/index.js",
    "vendor/@noble/curves/ed25519.js",
    "vendor/@noble/hashes/sha3.js",
]
VENDOR_EXTRA = ["vendor/zxing-wasm/reader/zxing_reader.wasm"]

_IMPORT = re.compile(
    r"""(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]*\s*from\s*)?["']([^"']+)["']""",
    re.MULTILINE,
)
_IMPORTMAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)
_ASSETS_BLOCK = re.compile(r"/\* @assets.*?/\* @end \*/", re.DOTALL)

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")


@dataclass
class ScannerFiles:
    """Where the app and node_modules are; the asset list and version, computed once."""

    app_dir: Path = APP_DIR
    node_modules: Path = NODE_MODULES
    _assets: list[str] | None = field(default=None, init=False)
    _version: str | None = field(default=None, init=False)

    # ------------------------------------------------------------------ resolving URL paths

    def vendor_file(self, rel: str) -> Path | None:
        """`rel` below /scan/vendor/ -> a file in node_modules, or None if not served."""
        for prefix, (package, sub) in VENDOR.items():
            if rel.startswith(prefix + "/"):
                inner = rel[len(prefix) + 1 :]
                root = (self.node_modules / package / sub).resolve()
                break
        else:
            return None
        pure = PurePosixPath(inner)
        if ".." in pure.parts or pure.is_absolute() or pure.suffix not in {".js", ".wasm"}:
            return None
        if pure.parts and pure.parts[0] == "src":
            return None
        path = (root / pure).resolve()
        if not path.is_file() or not path.is_relative_to(root):
            return None
        return path

    def app_file(self, rel: str) -> Path | None:
        """`rel` below /scan/ -> a file of the app, or None."""
        if rel in ("", "index.html"):
            rel = "index.html"
        if rel.startswith("vendor/"):
            return self.vendor_file(rel[len("vendor/") :])
        pure = PurePosixPath(rel)
        if ".." in pure.parts or pure.is_absolute() or pure.suffix not in APP_SUFFIXES:
            return None
        if pure.name in APP_EXCLUDE or any(p.startswith(".") or p == "dist" for p in pure.parts):
            return None
        root = self.app_dir.resolve()
        path = (root / pure).resolve()
        if not path.is_file() or not path.is_relative_to(root):
            return None
        return path

    # ------------------------------------------------------------------ assets and version

    def _import_closure(self, entry: str) -> list[str]:
        seen: list[str] = []
        todo = [entry]
        while todo:
            rel = todo.pop()
            if rel in seen:
                continue
            path = self.app_file(rel)
            if path is None:
                if rel == entry:
                    raise FileNotFoundError(f"scanner asset {rel} is missing (run npm ci)")
                continue  # a path named in a module's doc comment
            seen.append(rel)
            if path.suffix != ".js":
                continue
            for spec in _IMPORT.findall(path.read_text(encoding="utf-8")):
                if spec.startswith("@noble/"):
                    todo.append("vendor/" + spec)
                elif spec.startswith("."):
                    todo.append(_normalize(str(PurePosixPath(rel).parent / spec)))
        return seen

    def assets(self) -> list[str]:
        """Every URL path (relative to /scan/) the app needs offline."""
        if self._assets is None:
            own = sorted(
                p.relative_to(self.app_dir).as_posix()
                for p in self.app_dir.rglob("*")
                if p.is_file()
                and self.app_file(p.relative_to(self.app_dir).as_posix()) is not None
                and p.name != "sw.js"
            )
            vendor: list[str] = []
            for entry in VENDOR_ENTRIES:
                vendor.extend(self._import_closure(entry))
            vendor.extend(VENDOR_EXTRA)
            self._assets = ["./", *own, *sorted(set(vendor))]
        return self._assets

    def version(self) -> str:
        """A hash of every asset's bytes: changes whenever the app or a vendored module does."""
        if self._version is None:
            digest = hashlib.sha256()
            for rel in self.assets()[1:]:
                path = self.app_file(rel)
                assert path is not None
                digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
            self._version = digest.hexdigest()[:16]
        return self._version

    def service_worker(self) -> str:
        source = (self.app_dir / "sw.js").read_text(encoding="utf-8")
        block = (
            f"const VERSION = {json.dumps(self.version())};\n"
            f"const ASSETS = {json.dumps(self.assets(), separators=(',', ':'))};"
        )
        return _ASSETS_BLOCK.sub(lambda _: block, source, count=1)

    def csp(self) -> str:
        """Content-Security-Policy of the page: only its own origin, plus its inline import map."""
        html = (self.app_dir / "index.html").read_text(encoding="utf-8")
        hashes = " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode() + "'"
            for m in _IMPORTMAP.findall(html)
        )
        return (
            "default-src 'self'; "
            f"script-src 'self' 'wasm-unsafe-eval' {hashes}; "
            "style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
            "connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
            "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
        )


def _normalize(rel: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(rel).parts:
        if part == "..":
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def make_router(files: ScannerFiles | None = None) -> APIRouter:
    """The /scan router over the given app and node_modules directories."""
    files = files or ScannerFiles()
    router = APIRouter(tags=["scanner"], include_in_schema=False)

    def _headers(path: Path, rel: str) -> dict[str, str]:
        headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
        if rel.startswith("vendor/"):
            headers["Cache-Control"] = "public, max-age=86400"
        else:
            headers["Cache-Control"] = "no-cache"
        if path.suffix == ".html":
            headers["Content-Security-Policy"] = files.csp()
            headers["Permissions-Policy"] = "camera=(self), geolocation=(self), microphone=()"
        return headers

    @router.get("/scan")
    def scan_root() -> RedirectResponse:
        return RedirectResponse("/scan/", status_code=308)

    @router.get("/scan/sw.js")
    def service_worker() -> Response:
        return Response(
            files.service_worker(),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/scan/"},
        )

    @router.get("/scan/{rel:path}")
    def scan_file(rel: str, request: Request) -> Response:
        path = files.app_file(rel)
        if path is None:
            raise HTTPException(404, "not found")
        etag = '"' + files.version() + "-" + hashlib.sha1(rel.encode()).hexdigest()[:8] + '"'
        headers = _headers(path, rel if rel else "index.html")
        headers["ETag"] = etag
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media.startswith("text/") or media.endswith("+json"):
            media += "; charset=utf-8"
        return Response(path.read_bytes(), media_type=media, headers=headers)

    return router


router = make_router()
