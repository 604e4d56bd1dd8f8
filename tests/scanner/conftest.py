"""Browser fixtures: Debian's Chromium driven by Playwright, a server in a thread, QR pictures and
a fake camera video made from them."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from silktrace.config import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("SILKTRACE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RESULTS = PROJECT_ROOT / "test-results" / "scanner"
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


# ---------------------------------------------------------------------------------- pictures


def qr_image(text: str, box: int = 8) -> Any:
    """A QR code of `text` as a PIL image (white border of 4 modules)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").convert("RGB")


def label_photo(text: str, path: Path) -> Path:
    """A phone-photo-like picture of a label: the code on a tinted background, slightly rotated."""
    from PIL import Image, ImageDraw

    code = qr_image(text, box=6)
    photo = Image.new("RGB", (900, 1200), (214, 205, 188))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((120, 220, 780, 980), fill=(250, 250, 246))
    photo.paste(code, ((900 - code.width) // 2, (1200 - code.height) // 2))
    photo = photo.rotate(4, expand=False, fillcolor=(214, 205, 188))
    photo.save(path, quality=90)
    return path


def y4m_video(text: str, path: Path, width: int = 640, height: int = 480, frames: int = 6) -> Path:
    """A YUV4MPEG2 (4:2:0) video showing the QR code of `text`, for Chromium's fake camera."""
    from PIL import Image

    code = qr_image(text, box=6)
    side = min(height - 40, code.width)
    code = code.resize((side, side), Image.Resampling.NEAREST)
    frame = Image.new("RGB", (width, height), (236, 232, 224))
    frame.paste(code, ((width - side) // 2, (height - side) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + planes)
    return path


# ---------------------------------------------------------------------------------- server


class ServerThread:
    """A uvicorn server for an ASGI app on a free port, in a daemon thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        import uvicorn

        self.port = port or self.free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @staticmethod
    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


# ---------------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/setup.sh --browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def launch(playwright_instance: Any) -> Iterator[Callable[..., Any]]:
    """Launch Chromium with extra arguments; every browser launched is closed at the end."""
    browsers: list[Any] = []

    def _launch(*extra: str) -> Any:
        browser = playwright_instance.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra]
        )
        browsers.append(browser)
        return browser

    yield _launch
    for browser in browsers:
        browser.close()


@pytest.fixture(scope="session")
def browser(launch: Callable[..., Any]) -> Any:
    """Chromium without a camera device: the camera is refused, photos and links still work."""
    return launch()


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    return RESULTS


@pytest.fixture
def shot(results_dir: Path) -> Callable[[Any, str], Path]:
    """Save a phone-sized full-page screenshot of the page as test-results/scanner/<name>.png."""

    def _shot(page: Any, name: str) -> Path:
        path = results_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def tmp_pictures(tmp_path: Path) -> Path:
    return tmp_path


def has_chromium() -> bool:
    return CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is not None
