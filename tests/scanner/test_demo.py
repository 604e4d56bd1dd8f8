"""The scanner against the real system: the API app (`api.main.create_app`) over HTTP, the demo
scenario (`api.demo.load_demo`) written to the session's Anvil and mirrored by the indexer.

A consumer points the phone (Chromium's fake camera, fed a video of the printed code) at the
delivered tin and sees its journey; a photo of a forged code says "not genuine"; the recalled tin
shows the recall."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from web3 import Web3

from silktrace.config import Settings
from tests.conftest import make_settings
from tests.scanner.conftest import PHONE, ServerThread, label_photo, y4m_video

pytestmark = [pytest.mark.browser, pytest.mark.chain, pytest.mark.slow]

# The delivered tin's steps, in chain order, as the demo records them: the lot's events, the split
# that gives the tin a state of its own, then the tin's own from the consumer's order on.
DELIVERED_STEPS = [
    "commissioning",
    "storing",
    "shipping",
    "accepting",
    "departing",
    "arriving",
    "shipping",
    "bonded_entry",
    "inspecting",
    "storing",
    "split",
    "order_placed",
    "three_document_match",
    "customs_declaration",
    "customs_release",
    "bonded_exit",
    "shipping",
    "accepting",
    "consumer_receipt",
]


@dataclass
class Demo:
    url: str
    links: dict[str, str]  # delivered, stored, recalled -> signed Digital Link URI


@pytest.fixture(scope="module")
def demo(
    chain_settings: Settings, deployment: Any, w3: Web3, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Demo]:
    """The demo scenario on a fresh SQLite mirror, served by the real app on a free port; the
    chain is reverted afterwards."""
    from api.config import ApiSettings
    from api.demo import load_demo
    from api.main import create_app
    from indexer.config import IndexerConfig
    from indexer.runner import run

    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    data = tmp_path_factory.mktemp("scanner-demo")
    shutil.copy(chain_settings.deployment_file, data / "deployment.json")
    settings = make_settings(data, chain_settings.rpc_url, chain_port=chain_settings.chain_port)
    port = ServerThread.free_port()
    api = ApiSettings(  # type: ignore[call-arg]
        _env_file=None,
        resolver_base_url=f"http://127.0.0.1:{port}",
        outbox_interval_s=0,
        scan_flush_interval_s=0.05,
    )
    info = load_demo(settings, log=lambda *_: None, api_settings=api)
    run(settings, follow=False, config=IndexerConfig(_env_file=None))  # type: ignore[call-arg]
    links = {label.split(" ")[0]: uri for label, uri in info.qr_links.items()}
    links["stored"] = links.pop("in")
    try:
        with ServerThread(create_app(settings, api), port=port) as server:
            yield Demo(server.url, links)
    finally:
        w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


@pytest.fixture
def phone(browser: Any, demo: Demo) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def _open(locale: str = "zh-CN") -> Any:
        context = browser.new_context(locale=locale, **PHONE)
        contexts.append(context)
        page = context.new_page()
        page.goto(demo.url + "/scan")
        page.wait_for_selector("html[data-ready]")
        page.wait_for_function("() => localStorage.getItem('silktrace.qrKeys') !== null")
        return page

    yield _open
    for context in contexts:
        context.close()


def _steps(page: Any) -> list[str]:
    return list(
        page.locator("#timeline-list > li").evaluate_all("els => els.map(e => e.dataset.step)")
    )


def test_fake_camera_scan_of_the_delivered_tin_shows_its_journey(
    launch: Callable[..., Any], demo: Demo, tmp_path: Path, shot: Any
) -> None:
    video = y4m_video(demo.links["delivered"], tmp_path / "label.y4m")
    browser = launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    for locale in ("zh-CN", "en-US"):
        context = browser.new_context(locale=locale, **PHONE)
        context.grant_permissions(["camera"], origin=demo.url)
        try:
            page = context.new_page()
            page.goto(demo.url + "/scan")
            # the camera starts by itself and the code is read from the video: no click, no typing
            page.wait_for_selector("#timeline-list", timeout=30000)
            page.wait_for_selector("#badge-verified[data-state='good']")
            assert _steps(page) == DELIVERED_STEPS
            assert page.locator("#badge-genuine").get_attribute("data-state") == "good"
            assert page.locator("#badge-recall").get_attribute("data-state") == "good"
            assert page.locator("#badge-delivered").is_visible()
            item = page.locator("#item").inner_text()
            timeline = page.locator("#timeline").inner_text()
            if locale == "zh-CN":
                assert "考拉牧场 婴儿配方奶粉 1段 800克" in item and "澳大利亚" in item
                assert "AU2611A" in item and "2028年8月31日" in item
                assert "泉州海关" in timeline and "检验合格" in timeline and "签收" in timeline
                assert "泉州综合保税区 3 号保税仓" in timeline
            else:
                assert "Koala Dairy infant formula stage 1, 800 g" in item
                assert "Australia" in item and "31 August 2028" in item
                assert "Quanzhou Customs" in timeline and "Passed inspection" in timeline
                assert "Certificate of origin (ChAFTA)" in timeline
            route = page.locator("#route-list > li").all_inner_texts()
            assert len(route) >= 3
            shot(page, f"demo-delivered-{locale[:2]}")
        finally:
            context.close()


def test_photo_of_a_forged_demo_code_is_not_genuine(
    phone: Callable[..., Any], demo: Demo, tmp_path: Path, shot: Any
) -> None:
    # a counterfeiter copies a genuine signature onto another serial of the same lot
    genuine = urlsplit(demo.links["delivered"])
    forged = f"{genuine.scheme}://{genuine.netloc}{genuine.path[:-6]}000007?{genuine.query}"
    page = phone("zh-CN")
    page.set_input_files("#photo", str(label_photo(forged, tmp_path / "forged.jpg")))
    page.wait_for_selector("#badge-genuine[data-state='bad']")
    page.wait_for_selector("#result-view[data-phase='done']")
    assert "非正品码" in page.locator("#badge-genuine").inner_text()
    assert "签名不匹配" in page.locator("#badge-genuine").inner_text()
    assert "请不要相信" in page.locator("#counterfeit").inner_text()
    assert page.locator("#badge-verified").get_attribute("data-state") == "info"
    shot(page, "demo-forged-zh")


def test_recalled_demo_tin_shows_the_recall(
    phone: Callable[..., Any], demo: Demo, shot: Any
) -> None:
    for locale, title in (("zh-CN", "该商品已被召回"), ("en-US", "This item has been recalled")):
        page = phone(locale)
        page.fill("#link", demo.links["recalled"])
        page.press("#link", "Enter")
        page.wait_for_selector("#recall")
        recall = page.locator("#recall").inner_text()
        assert title in recall and "12315" in recall
        # the reason text whose hash the regulator put on chain
        assert "Enterobacter sakazakii detected" in recall
        assert page.locator("#badge-recall").get_attribute("data-state") == "bad"
        assert page.locator("#badge-genuine").get_attribute("data-state") == "good"
        timeline = page.locator("#timeline").inner_text()
        assert ("检验不合格" if locale == "zh-CN" else "Failed inspection") in timeline
        assert "recall" in _steps(page)
        shot(page, f"demo-recalled-{locale[:2]}")


def test_stored_demo_tin_names_who_is_responsible(
    phone: Callable[..., Any], demo: Demo, shot: Any
) -> None:
    page = phone("en-US")
    page.fill("#link", demo.links["stored"])
    page.press("#link", "Enter")
    page.wait_for_selector("#badge-verified[data-state='good']")
    item = page.locator("#item").inner_text()
    assert "Quanzhou Comprehensive Bonded Zone Warehousing Co., Ltd." in item
    assert "In bonded stock" in item
    assert page.locator("#badge-delivered").count() == 0
    shot(page, "demo-stored-en")


def test_unknown_serial_is_reported(phone: Callable[..., Any], demo: Demo, shot: Any) -> None:
    genuine = urlsplit(demo.links["delivered"])
    invented = f"{demo.url}{genuine.path[:-6]}999999?{genuine.query}"
    page = phone("en-US")
    page.fill("#link", invented)
    page.press("#link", "Enter")
    page.wait_for_selector("#unknown")
    assert "Unknown item" in page.locator("#unknown").inner_text()
    assert page.locator("#badge-genuine").get_attribute("data-state") == "bad"
    # the lot's history is not this (invented) item's: none is shown
    page.wait_for_selector("#result-view[data-phase='done']")
    assert page.locator("#timeline").is_hidden() and page.locator("#route").is_hidden()
    shot(page, "demo-unknown-en")
