"""The scanner's states in headless Chromium, against a stand-in resolver that can show each one on
demand: languages, forged codes, recall, clone warning, offline, slow network, unknown item,
codes from elsewhere, refused camera, accessibility and the offline app shell."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from silktrace.config import PROJECT_ROOT
from tests.scanner.conftest import PHONE, ServerThread, label_photo, qr_image, y4m_video
from tests.scanner.fake_resolver import GTIN, LOT, FakeResolver

pytestmark = pytest.mark.browser

Page = Any


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeResolver, str]]:
    resolver = FakeResolver()
    with ServerThread(resolver.app()) as server:
        yield resolver, server.url


@pytest.fixture
def open_page(browser: Any, fake: tuple[FakeResolver, str]) -> Iterator[Callable[..., Page]]:
    """A phone-sized page on /scan in the given locale, JS errors collected in page.errors."""
    contexts: list[Any] = []

    def _open(locale: str = "en-US", **options: Any) -> Page:
        context = browser.new_context(locale=locale, **PHONE, **options)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda err: page.errors.append(str(err)))
        page.goto(fake[1] + "/scan")
        page.wait_for_selector("html[data-ready]")
        # the issuers' key set is fetched and cached at start
        page.wait_for_function("() => localStorage.getItem('silktrace.qrKeys') !== null")
        return page

    yield _open
    for context in contexts:
        context.close()


def check(page: Page, text: str) -> None:
    """Type a code's link and press Enter, as a keyboard user would."""
    page.fill("#link", text)
    page.press("#link", "Enter")


def badge(page: Page, name: str) -> Any:
    return page.locator(f"#badge-{name}")


def done(page: Page) -> None:
    page.wait_for_selector("#result-view:not([data-phase='loading']):not([data-phase='slow'])")


# ---------------------------------------------------------------------------------- languages


def test_english_and_chinese_render_and_switch(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    en = open_page("en-US")
    assert en.locator("html").get_attribute("lang") == "en"
    assert en.locator("#scan-title").inner_text() == "Scan the QR code on your item"
    assert en.get_by_role("button", name="Pick a photo of the code").is_visible()
    shot(en, "scanner-en")

    zh = open_page("zh-CN")
    assert zh.locator("html").get_attribute("lang") == "zh-CN"
    assert zh.locator("#scan-title").inner_text() == "扫描商品上的二维码"
    shot(zh, "scanner-zh")
    check(zh, resolver.uri("000001"))
    done(zh)
    assert badge(zh, "genuine").locator(".badge-title").inner_text() == "正品码"
    assert "检验合格" in zh.locator("#timeline").inner_text()
    assert zh.locator("#item-title").inner_text() == "考拉金装婴儿配方奶粉 1段 800克"
    assert "澳大利亚" in zh.locator("#item").inner_text()
    shot(zh, "delivered-zh")

    # the switch changes every text in place, and is remembered
    zh.get_by_role("button", name="Switch to English").click()
    assert zh.locator("html").get_attribute("lang") == "en"
    assert badge(zh, "genuine").locator(".badge-title").inner_text() == "Genuine code"
    assert "Passed inspection" in zh.locator("#timeline").inner_text()
    assert "Australia" in zh.locator("#item").inner_text()
    shot(zh, "delivered-en")
    zh.reload()
    zh.wait_for_selector("html[data-ready]")
    assert zh.locator("html").get_attribute("lang") == "en"
    assert zh.get_by_role("button", name="切换到中文").is_visible()
    assert not zh.errors and not en.errors


# ---------------------------------------------------------------------------------- genuine or not


def test_photo_of_a_forged_code_is_not_genuine(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], tmp_path: Path, shot: Any
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    photo = label_photo(resolver.forged_uri("000001"), tmp_path / "forged.jpg")
    page.set_input_files("#photo", str(photo))
    page.wait_for_selector("#badge-genuine[data-state='bad']")
    text = badge(page, "genuine").inner_text()
    assert "Not genuine" in text
    assert "does not match" in text
    done(page)
    assert "Do not trust this item's code" in page.locator("#counterfeit").inner_text()
    shot(page, "forged-en")
    assert not page.errors


def test_copied_signature_on_an_invented_serial(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str]
) -> None:
    resolver, _ = fake
    page = open_page("zh-CN")
    sig = resolver.uri("000001").split("?sig=")[1]
    check(page, f"{resolver.base_url}/01/{GTIN}/10/{LOT}/21/999999?sig={sig}")
    page.wait_for_selector("#unknown")
    assert "非正品码" in badge(page, "genuine").inner_text()
    assert "查无此商品" in page.locator("#unknown").inner_text()


def test_unsigned_code(open_page: Callable[..., Page], fake: tuple[FakeResolver, str]) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    check(page, resolver.uri("000001").split("?")[0])
    done(page)
    assert "no signature" in badge(page, "genuine").inner_text()


def test_unknown_item(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    check(page, resolver.uri("000404"))  # signed, never registered
    page.wait_for_selector("#unknown")
    assert "Unknown item" in page.locator("#unknown").inner_text()
    assert "Not genuine" in badge(page, "genuine").inner_text()
    assert "never registered" in badge(page, "genuine").inner_text()
    shot(page, "unknown-en")


# ---------------------------------------------------------------------------------- recall, clone


def test_recalled_item_shows_the_recall(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    for locale, title, reason, todo in [
        ("en-US", "This item has been recalled", "Cronobacter", "12315"),
        ("zh-CN", "该商品已被召回", "Cronobacter", "12315"),
    ]:
        page = open_page(locale)
        check(page, resolver.uri("000002"))
        page.wait_for_selector("#recall")
        recall = page.locator("#recall").inner_text()
        assert title in recall and reason in recall and todo in recall
        assert badge(page, "recall").get_attribute("data-state") == "bad"
        assert page.locator("#timeline-list > li").last.get_attribute("data-action") == "recall"
        shot(page, f"recalled-{locale[:2]}")


def test_clone_warning(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    check(page, resolver.uri("000003"))
    page.wait_for_selector("#clone")
    text = page.locator("#clone").inner_text()
    assert "may have been copied" in text
    assert "scanned far apart" in text
    assert badge(page, "genuine").get_attribute("data-state") == "good"
    shot(page, "clone-en")


def test_not_verified_against_the_chain(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str]
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    check(page, resolver.uri("000004"))
    done(page)
    assert badge(page, "verified").get_attribute("data-state") == "warn"
    assert "Not verified" in badge(page, "verified").inner_text()


# ---------------------------------------------------------------------------------- degradation


def test_offline_signature_still_checked(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    page.context.set_offline(True)
    check(page, resolver.uri("000001"))
    page.wait_for_selector("#load-error")
    assert "You are offline" in page.locator("#load-error").inner_text()
    assert "could not be loaded" in page.locator("#load-error").inner_text()
    genuine = badge(page, "genuine")
    assert genuine.get_attribute("data-state") == "good"
    assert "Checked offline on your phone" in genuine.inner_text()
    assert badge(page, "verified").get_attribute("data-state") == "info"
    assert page.locator("#net").is_visible()
    shot(page, "offline-en")
    # back online: the history loads by itself
    page.context.set_offline(False)
    page.wait_for_selector("#timeline-list")
    assert badge(page, "verified").get_attribute("data-state") == "good"


def test_offline_forged_code_is_still_caught(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str]
) -> None:
    resolver, _ = fake
    page = open_page("zh-CN")
    page.context.set_offline(True)
    check(page, resolver.forged_uri("000001"))
    page.wait_for_selector("#load-error")
    assert "非正品码" in badge(page, "genuine").inner_text()


def test_slow_network_shows_progress(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    resolver.delay_s = 6.5
    try:
        check(page, resolver.uri("000001"))
        page.wait_for_selector("#progress [role=progressbar]")
        assert page.locator("#result-view").get_attribute("aria-busy") == "true"
        page.wait_for_selector("text=/network is slow/", timeout=8000)
        shot(page, "slow-en")
        page.wait_for_selector("#timeline-list", timeout=10000)
        assert page.locator("#progress").count() == 0
    finally:
        resolver.delay_s = 0


def test_codes_from_elsewhere_get_a_clear_message(
    open_page: Callable[..., Page], tmp_path: Path, shot: Any
) -> None:
    page = open_page("en-US")
    photo = tmp_path / "wifi.png"
    qr_image("WIFI:T:WPA;S:cafe;P:secret;;").save(photo)
    page.set_input_files("#photo", str(photo))
    page.wait_for_selector("#scan-message[data-kind='notSilkTrace']")
    assert "This is not a SilkTrace code" in page.locator("#scan-message").inner_text()
    assert "WIFI:T:WPA" in page.locator("#scan-message").inner_text()
    assert page.locator("#scan-view").is_visible()
    shot(page, "not-silktrace-en")

    check(page, "https://id.gs1.org/01/09506000134352/10/ABC123")
    page.wait_for_selector("#scan-message[data-kind='otherGs1']")
    assert "another system" in page.locator("#scan-message").inner_text()

    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 400), (240, 240, 230)).save(blank)
    page.set_input_files("#photo", str(blank))
    page.wait_for_selector("#scan-message[data-kind='noCode']")


def test_camera_refused(
    launch: Callable[..., Any], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    # a camera exists, but the permission prompt is dismissed (headless denies it)
    browser = launch("--use-fake-device-for-media-stream")
    context = browser.new_context(locale="zh-CN", **PHONE)
    try:
        page = context.new_page()
        page.goto(fake[1] + "/scan")
        page.wait_for_selector("#viewfinder[data-state='error']")
        status = page.locator("#cam-status").inner_text()
        assert "相机权限被拒绝" in status and "选择一张二维码照片" in status
        assert page.get_by_role("button", name="选择二维码照片").is_enabled()
        shot(page, "camera-refused-zh")
    finally:
        context.close()


# ---------------------------------------------------------------------------------- in-page units


def test_signature_scheme_test_vector_in_the_browser(open_page: Callable[..., Page]) -> None:
    """docs/qr-signature.md's test vector, through WebCrypto and through the JS fallback."""
    page = open_page("en-US")
    result = page.evaluate(
        """async () => {
          const dl = await import('./js/dl.js');
          const sig = await import('./js/sig.js');
          const { ed25519 } = await import('@noble/curves/ed25519.js');
          const x = 'A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg';
          const s = sig.parseSig('1.1.yP2Lzn0s0Ymn1b2u4hHA1A_mvMyt4uXVfZHNWIcWR3LKoVCKujfyrvvJ7-wMFQLHbal246Jz9vzaSxeEQAUgDA');
          const msg = (p) => new TextEncoder().encode('SilkTrace-QR-v1|' + p);
          const good = dl.parseDigitalLink('https://id.silktrace.example/01/9312345000012/10/AU2026A/21/000001');
          const bad = dl.parseDigitalLink('/01/09312345000012/10/AU2026A/21/0000012');
          const pub = await crypto.subtle.importKey('raw', sig.b64urlToBytes(x), {name: 'Ed25519'}, false, ['verify']);
          return {
            path: good.path, kid: s.kid,
            webcrypto: await crypto.subtle.verify({name: 'Ed25519'}, pub, s.signature, msg(good.path)),
            webcryptoBad: await crypto.subtle.verify({name: 'Ed25519'}, pub, s.signature, msg(bad.path)),
            noble: ed25519.verify(s.signature, msg(good.path), sig.b64urlToBytes(x), {zip215: false}),
            nobleBad: ed25519.verify(s.signature, msg(bad.path), sig.b64urlToBytes(x), {zip215: false}),
            subject: await sig.subjectId(good.path),
          };
        }"""
    )
    from silktrace import gs1

    assert result["path"] == "/01/09312345000012/10/AU2026A/21/000001"
    assert result["kid"] == "1.1"
    assert result["webcrypto"] is True and result["noble"] is True
    assert result["webcryptoBad"] is False and result["nobleBad"] is False
    assert result["subject"] == "0x" + gs1.subject_id(result["path"]).hex()


def test_canonical_paths_match_python(open_page: Callable[..., Page]) -> None:
    """dl.js rebuilds the same canonical path as silktrace.gs1 for awkward lots and serials."""
    from silktrace import gs1

    cases = [
        ("9312345000012", "A/B,1", "x%y"),
        ("09312345000012", "lot*(1)", "'!\"&"),
        ("0931234500001" + "2", "Ab-._", "0:;<=>?"),
    ]
    page = open_page("en-US")
    for gtin, lot_code, serial in cases:
        link = gs1.item(gtin, lot_code, serial)
        got = page.evaluate(
            "async (uri) => (await import('./js/dl.js')).parseDigitalLink(uri).path",
            "https://example.com/prefix" + link.path,
        )
        assert got == link.path
    errors = page.evaluate(
        """async () => {
          const dl = await import('./js/dl.js');
          const codes = [];
          for (const t of ['hello', '/01/09312345000013/10/A', '/01/09312345000012/21/1/10/A',
                           'https://x.example/01/09312345000012/10/' + 'A'.repeat(21)]) {
            try { dl.parseDigitalLink(t); codes.push('ok'); } catch (e) { codes.push(e.code); }
          }
          return codes;
        }"""
    )
    assert errors == ["not_a_link", "invalid_check_digit", "qualifier_order", "invalid_lot"]


# ---------------------------------------------------------------------------------- a11y, PWA


def test_accessibility_and_keyboard(
    browser: Any, fake: tuple[FakeResolver, str], shot: Any
) -> None:
    """axe-core finds no serious violation (contrast included) on the scanner and a result, and
    every control is reachable with the keyboard."""
    resolver, url = fake
    axe = (PROJECT_ROOT / "node_modules/axe-core/axe.min.js").read_text()
    context = browser.new_context(locale="en-US", bypass_csp=True, **PHONE)
    try:
        page = context.new_page()
        page.goto(url + "/scan")
        page.wait_for_selector("html[data-ready]")

        def violations() -> list[str]:
            page.add_script_tag(content=axe)
            found = page.evaluate(
                """async () => (await axe.run(document, {resultTypes: ['violations']}))
                   .violations.filter(v => ['serious', 'critical'].includes(v.impact))
                   .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"""
            )
            return list(found)

        assert violations() == []
        # keyboard: Tab from the top reaches the language switch, the camera and photo buttons
        # and the link field, and Enter in the field runs the check
        reached = []
        for _ in range(8):
            page.keyboard.press("Tab")
            reached.append(
                page.evaluate("document.activeElement.id || document.activeElement.className")
            )
        for control in ("lang", "camera", "photo-button", "link"):
            assert control in reached, reached
        page.focus("#link")
        page.keyboard.type(resolver.uri("000002"))
        page.keyboard.press("Enter")
        page.wait_for_selector("#recall")
        assert page.evaluate("document.activeElement.id") == "result-title"
        assert violations() == []
        page.focus("#again")
        page.keyboard.press("Enter")
        page.wait_for_selector("#scan-view:not([hidden])")
    finally:
        context.close()


def test_installable_and_opens_offline(
    open_page: Callable[..., Page], fake: tuple[FakeResolver, str], shot: Any
) -> None:
    resolver, _ = fake
    page = open_page("en-US")
    manifest = page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()"
    )
    assert manifest["display"] == "standalone" and manifest["start_url"] == "./"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    page.wait_for_function(
        "async () => (await navigator.serviceWorker.ready).active.state === 'activated'"
    )
    page.reload()  # now controlled by the service worker
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("html[data-ready]")
    check(page, resolver.uri("000001"))
    page.wait_for_selector("#load-error")
    assert badge(page, "genuine").get_attribute("data-state") == "good"
    assert re.search(r"offline", page.locator("#load-error").inner_text(), re.I)


def test_camera_keeps_scanning_past_a_foreign_code(
    launch: Callable[..., Any], fake: tuple[FakeResolver, str], tmp_path: Path, shot: Any
) -> None:
    """The live camera reads a code that is not SilkTrace's: it says so and keeps scanning."""
    video = y4m_video("https://shop.example.com/promo?id=42", tmp_path / "promo.y4m")
    browser = launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    context = browser.new_context(locale="en-US", **PHONE)
    try:
        page = context.new_page()
        page.goto(fake[1] + "/scan")
        page.wait_for_selector("#scan-message[data-kind='notSilkTrace']", timeout=30000)
        assert page.locator("#viewfinder").get_attribute("data-state") == "running"
        assert page.locator("#cam-status").inner_text() == "Looking for a QR code…"
        assert page.locator("#result-view").is_hidden()
        assert page.get_by_role("button", name="Stop camera").is_visible()
        shot(page, "camera-foreign-code-en")
        page.get_by_role("button", name="Stop camera").click()
        assert page.locator("#cam-status").inner_text() == "The camera is off."
    finally:
        context.close()
