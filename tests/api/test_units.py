"""Pieces that need no chain: signatures, key store, tokens, manifests, trees, clone heuristics."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from api.errors import ApiError
from api.manifest import TreeFile, serials, write_tree
from api.scans import ScanLog
from api.security import TokenSigner
from api.signing import (
    KeyBox,
    b64url,
    load_master_key,
    parse_sig,
    qr_public_key,
    sign_qr,
    verify_qr,
    verify_qr_openssl,
)
from silktrace.merkle import MerkleTree, leaf
from silktrace.merkle import verify as merkle_verify

DOC_PRIVATE = bytes(range(32))
DOC_PATH = "/01/09312345000012/10/AU2026A/21/000001"
DOC_SIG = "1.1.yP2Lzn0s0Ymn1b2u4hHA1A_mvMyt4uXVfZHNWIcWR3LKoVCKujfyrvvJ7-wMFQLHbal246Jz9vzaSxeEQAUgDA"


def test_qr_signature_matches_the_documented_vector() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs/qr-signature.md").read_text()
    assert DOC_SIG in doc and b64url(qr_public_key(DOC_PRIVATE)) in doc
    assert sign_qr(DOC_PRIVATE, "1.1", DOC_PATH) == DOC_SIG
    parsed = parse_sig(DOC_SIG)
    assert parsed is not None and parsed.kid == "1.1"
    public = qr_public_key(DOC_PRIVATE)
    for check in (verify_qr, verify_qr_openssl):
        assert check(public, DOC_PATH, parsed.signature)
        assert not check(public, DOC_PATH + "2", parsed.signature)
        assert not check(public, DOC_PATH, parsed.signature[:-1] + b"\x00")
    for bad in ("", "1.1", "a.1.xx", "1.1.AAAA", "1.1." + "A" * 85, "1.1.1." + "A" * 86):
        assert parse_sig(bad) is None


def test_master_key_and_key_box(tmp_path: Path) -> None:
    key = load_master_key(None, tmp_path)
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    assert load_master_key(None, tmp_path) == key
    box = KeyBox(key)
    sealed = box.seal(b"secret", "ledger/0xabc")
    assert b"secret" not in sealed.encode() and box.open(sealed, "ledger/0xabc") == b"secret"
    with pytest.raises(ApiError):
        box.open(sealed, "ledger/0xdef")  # bound to its row
    with pytest.raises(ApiError):
        KeyBox(load_master_key(b64url(b"\x01" * 32), tmp_path)).open(sealed, "ledger/0xabc")
    with pytest.raises(ValueError):
        load_master_key("short", tmp_path)
    assert "secret" not in repr(box)


def test_tokens() -> None:
    signer = TokenSigner(b"\x02" * 32)
    token, exp = signer.issue(3, "abcdefabcdef", 60)
    claims = signer.verify(token)
    assert claims.enterprise_id == 3 and claims.expires == exp
    with pytest.raises(ApiError) as e:
        TokenSigner(b"\x03" * 32).verify(token)
    assert e.value.code == "invalid_token"
    with pytest.raises(ApiError) as e:
        signer.verify(signer.issue(3, "abcdefabcdef", -1)[0])
    assert e.value.code == "token_expired"


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 1001])
def test_tree_file_proofs_match_merkle_tree(tmp_path: Path, n: int) -> None:
    ids = [bytes([i % 256, i // 256]) * 16 for i in range(n)]
    tree = MerkleTree(ids)
    root = write_tree(sorted(leaf(i) for i in ids), tmp_path / "t.tree")
    assert root == tree.root
    tf = TreeFile(tmp_path / "t.tree")
    for i in ids[:50]:
        assert tf.proof(i) == tree.proof(i) and merkle_verify(root, i, tf.proof(i) or [])
    assert tf.find(b"\xff" * 32) is None and tf.proof(b"\xff" * 32) is None
    tf.close()


def test_json_manifest_is_read_across_chunks(tmp_path: Path) -> None:
    # element boundaries fall anywhere in the 64 KiB read chunks
    items = [{"serial": f"S{i:07d}", "note": "x" * (i % 50)} for i in range(20_000)]
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"items": items}))
    got = [s for _, s in serials(path, "json")]
    assert got == [f"S{i:07d}" for i in range(20_000)]
    path.write_text("[1, 22, 333]")
    assert [s for _, s in serials(path, "json")] == ["1", "22", "333"]
    path.write_text('["a", "b"')
    with pytest.raises(ApiError) as e:
        list(serials(path, "json"))
    assert e.value.code == "invalid_manifest"
    path.write_bytes(b"serial\n\xff\xfe\n")
    with pytest.raises(ApiError):
        list(serials(path, "csv"))


ID_A, ID_B, ID_C, ID_D, ID_E = ("0x" + c * 64 for c in "abcde")


def _log(engine: Engine) -> ScanLog:
    return ScanLog(engine, max_kmh=900, sibling_factor=10, min_scans=20, flush_interval_s=60)


def _scan(log: ScanLog, subject: str, t: float, lat: float | None = None, lon: float | None = None,
          client: str = "c1", lot: str = "0xlot") -> None:
    log.record({"subject_id": subject, "lot_id": lot, "scanned_at": t, "client_hash": client,
                "lat": lat, "lon": lon, "signature_state": "valid", "warning": False})


def test_clone_heuristics(engine: Engine) -> None:
    log = _log(engine)
    now = time.time()
    with engine.connect() as conn:
        # Quanzhou, then Urumqi (about 3,300 km) an hour later: impossible by road or air
        _scan(log, ID_A, now - 3600, 24.9, 118.6)
        assert log.check(conn, ID_A, "0xlot", now, 43.8, 87.6, "c2", None).reasons == ["impossible_travel"]
        assert log.check(conn, ID_A, "0xlot", now + 86400, 43.8, 87.6, "c2", None).reasons == []
        assert log.check(conn, ID_A, "0xlot", now, 24.9, 118.7, "c2", None).reasons == []  # same city
        # delivered, then scanned by a second client
        assert log.check(conn, ID_B, "0xlot", now, None, None, "c1", now - 10).reasons == []
        _scan(log, ID_B, now - 5, client="c1")
        assert log.check(conn, ID_B, "0xlot", now, None, None, "c9", now - 10).reasons == ["scanned_after_delivery"]
        assert log.check(conn, ID_B, "0xlot", now, None, None, "c1", now - 10).reasons == []
        # scanned far more than its siblings (written to the table, then read back)
        for i in range(30):
            _scan(log, ID_C, now - 1000 + i, client=f"x{i}")
        for s in (ID_D, ID_E):
            _scan(log, s, now - 100)
        assert log.flush() == 34
    with engine.connect() as conn:
        assert "scanned_too_often" in log.check(conn, ID_C, "0xlot", now, None, None, "y", None).reasons
        assert log.check(conn, ID_D, "0xlot", now, None, None, "y", None).reasons == []
        assert len(log.recent(conn, ID_C)) == 30
        verdict = log.check(conn, ID_C, "0xlot", now, None, None, "y", None).as_dict()
        assert verdict["suspected"] and verdict["message"]["zh"]


def test_service_without_chain(db_url: str, tmp_path: Path) -> None:
    """No node and no deployment: /health says degraded, writes answer 503, resolution still works."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.conftest import api_settings
    from tests.conftest import free_port, make_settings

    settings = make_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url=db_url)
    with TestClient(create_app(settings, api_settings())) as client:
        h = client.get("/health").json()
        assert h["status"] == "degraded" and h["chain"].startswith("unavailable")
        admin = {"Authorization": f"Bearer {(tmp_path / 'admin.key').read_text().strip()}"}
        r = client.post("/enterprises", headers=admin, json={
            "name_zh": "甲", "name_en": "A", "credit_code": "91350500MA2Y000011", "roles": ["importer"]})
        assert r.status_code == 503 and r.json()["error"]["code"] == "chain_unavailable"
        t = client.get("/01/09312345000012/10/L1/21/S1?format=json")
        assert t.status_code == 200 and t.json()["status"]["registered"] is False


def test_scanned_items_are_known_after_a_restart(engine: Engine) -> None:
    first = _log(engine)
    assert first.sync() == 0  # an empty table: warm at once
    _scan(first, ID_A, time.time())
    assert first.known(ID_A) and not first.known(ID_B)
    first.flush()
    second = _log(engine)  # another worker, or the same after a restart
    assert not second.warm and second.known(ID_B)  # before reading the table: may have been
    assert second.sync() == 1 and second.warm
    assert second.known(ID_A) and not second.known(ID_B)
    assert second.sync() == 0


def test_recent_scans_stay_bounded_and_evicted_items_are_read_back(engine: Engine) -> None:
    """With room for two items, the third scanned pushes the first out; its history then comes
    from the table, whole, and an item never scanned still costs no query."""
    log = ScanLog(engine, max_kmh=900, sibling_factor=10, min_scans=20, flush_interval_s=60,
                  cache_items=2)
    assert log.sync() == 0 and log.warm
    now = time.time()
    _scan(log, ID_A, now - 30, client="a1")
    _scan(log, ID_A, now - 20, client="a2")
    _scan(log, ID_B, now - 10)
    _scan(log, ID_C, now - 5)
    assert len(log._recent) == 2 and log.known(ID_A)  # out of memory, in the Bloom filter
    with engine.connect() as conn:
        # not yet flushed: the table has nothing, the pending rows still count
        assert [r[3] for r in log.recent(conn, ID_A)] == ["a2", "a1"]
        assert log.flush() == 4
        assert [r[3] for r in log.recent(conn, ID_A)] == ["a2", "a1"]
        assert log.recent(conn, ID_D) == [] and not log.known(ID_D)
    assert log.sync() == 4  # its own rows come back from the table without doubling
    with engine.connect() as conn:
        assert len(log.recent(conn, ID_A)) == 2 and len(log.recent(conn, ID_C)) == 1


def test_bloom_filter_has_no_false_negatives() -> None:
    import os

    from api.scans import Bloom

    bloom = Bloom(bits_log2=16)
    keys = [os.urandom(32) for _ in range(2000)]
    for k in keys:
        bloom.add(k)
    assert all(k in bloom for k in keys)
    assert sum(os.urandom(32) in bloom for _ in range(2000)) < 200  # about 1% expected


def test_digital_link_fast_path_fails_as_the_routes_do(db_url: str, tmp_path: Path) -> None:
    """Scans skip FastAPI's router; errors still leave through the application's handlers, and
    what the fast path does not take (HEAD, other paths) reaches the routes."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from api.main import create_app
    from tests.api.conftest import api_settings
    from tests.conftest import free_port, make_settings

    settings = make_settings(tmp_path, f"http://127.0.0.1:{free_port()}", database_url=db_url)
    app = create_app(settings, api_settings())
    item = "/01/09312345000012/10/L1/21/S1"
    with TestClient(app, raise_server_exceptions=False) as client:
        bad = client.get("/01/09312345000013/10/L1/21/S1?format=json")
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_check_digit"
        same = client.get("/trace/01/09312345000013/10/L1/21/S1")  # an ordinary route
        assert same.status_code == 422 and same.json()["error"]["code"] == "invalid_check_digit"
        assert client.get(item + "?lat=91").json()["error"]["code"] == "validation_error"
        head, get = client.head(item), client.get(item)
        assert head.status_code == get.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert client.head("/health").status_code == 405  # not the fast path's: the routes answer
        assert client.get(item + "?format=json").json()["status"]["registered"] is False

        resolver = app.state.silktrace.resolver

        def down(*_: object) -> None:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

        def broken(*_: object) -> None:
            raise RuntimeError("a bug")

        for fault, status, code in ((down, 503, "database_unavailable"), (broken, 500, "internal_error")):
            resolver.trace = fault
            r = client.get(item + "?format=json")
            assert r.status_code == status and r.json()["error"]["code"] == code, r.text
