"""`silktrace verify`: re-read the chain's logs and compare them with the mirror, row by row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from indexer.config import IndexerConfig
from indexer.decode import EVENT_COLUMNS, Event, check_abi
from indexer.errors import IndexerError
from indexer.sink import Sink
from indexer.source import LogSource, Rpc
from silktrace.chain import Deployment
from silktrace.config import Settings
from silktrace.db import create_db_engine
from silktrace.errors import ChainError

# Columns compared: everything the chain determines (ids are the mirror's own).
COMPARED = tuple(c for c in EVENT_COLUMNS if c not in ("id", "chain_id", "contract"))


@dataclass
class VerifyReport:
    """The outcome of a comparison; `ok` when the mirror equals the chain up to its cursor."""

    chain_id: int
    indexed_block: int | None
    events_checked: int = 0
    missing: int = 0
    extra: int = 0
    altered: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    @property
    def summary(self) -> str:
        return (f"chain {self.chain_id}, blocks up to {self.indexed_block}, "
                f"{self.events_checked} events; {self.missing} missing, {self.extra} extra, "
                f"{self.altered} altered")


def _key(ev: Event) -> tuple[int, int]:
    return (ev.block_number, ev.log_index)


def _values(ev: Event) -> tuple[object, ...]:
    return ev.chain_values()


def verify(settings: Settings, config: IndexerConfig | None = None, *, limit: int = 1000
           ) -> VerifyReport:
    """Compare every ledger_event row with the chain's logs up to the mirror's cursor."""
    config = config or IndexerConfig()
    try:
        deployment = Deployment.load(settings.deployment_file)
    except ChainError as exc:
        raise IndexerError(exc.message, code=exc.code) from exc
    check_abi(deployment.abi["TraceLedger"])
    engine = create_db_engine(settings.sql_url())
    rpc = Rpc(settings.rpc_url, timeout=config.rpc_timeout)
    try:
        sink = Sink(engine, deployment.chain_id, deployment.ledger.address)
        with engine.connect() as conn:
            cursor = sink.read_cursor(conn)
        report = VerifyReport(deployment.chain_id, cursor.block_number if cursor else None)
        if cursor is None:
            report.differences.append("nothing indexed yet: the mirror has no cursor")
            return report
        source = LogSource(rpc, deployment.ledger.address, config, deployment.chain_id)
        node = source.maybe_headers([cursor.block_number])[cursor.block_number]
        if node is None or node.hash != cursor.block_hash:
            report.differences.append(
                f"the mirror's last block {cursor.block_number} {cursor.block_hash} is not on the "
                f"node's chain (node has {node.hash if node else 'no such block'})"
            )
        start = deployment.ledger.start_block
        # Everything outside the chain's reach: rows above the cursor or of other contracts.
        with engine.connect() as conn:
            stray = conn.execute(text(
                "SELECT COUNT(*) FROM ledger_event WHERE chain_id = :c AND "
                "(block_number > :b OR block_number < :s OR contract <> :a)"
            ), {"c": deployment.chain_id, "b": cursor.block_number, "s": start,
                "a": sink.contract}).scalar()
        if stray:
            report.extra += int(stray)
            report.differences.append(f"{stray} rows outside the indexed range or contract")
        for chunk in source.ranges(start, cursor.block_number, dense_from=cursor.block_number + 1):
            chain = {_key(e): e for e in chunk.events}
            with engine.connect() as conn:
                rows = conn.execute(text(
                    f"SELECT {', '.join(EVENT_COLUMNS)} FROM ledger_event WHERE chain_id = :c "
                    "AND contract = :a AND block_number BETWEEN :lo AND :hi"
                ), {"c": deployment.chain_id, "a": sink.contract, "lo": chunk.start,
                    "hi": chunk.end}).mappings().all()
            mirror: dict[tuple[int, int], Event] = {}
            for r in rows:
                ev = Event.from_row(r)
                if _key(ev) in mirror:
                    report.extra += 1
                    _note(report, limit, f"duplicate row for log {_key(ev)}")
                mirror[_key(ev)] = ev
            report.events_checked += len(chain)
            for k in sorted(chain.keys() - mirror.keys()):
                report.missing += 1
                _note(report, limit, f"missing: {chain[k].name} at block {k[0]} log {k[1]}")
            for k in sorted(mirror.keys() - chain.keys()):
                report.extra += 1
                _note(report, limit, f"extra: {mirror[k].name} at block {k[0]} log {k[1]} "
                      f"(row id {mirror[k].id}) is not on the chain")
            for k in sorted(chain.keys() & mirror.keys()):
                want, got = _values(chain[k]), _values(mirror[k])
                if want != got:
                    report.altered += 1
                    cols = [c for c, a, b in zip(COMPARED, want, got, strict=True) if a != b]
                    _note(report, limit, f"altered: {chain[k].name} at block {k[0]} log {k[1]} "
                          f"(row id {mirror[k].id}): {', '.join(cols)}")
        return report
    finally:
        rpc.close()
        engine.dispose()


def _note(report: VerifyReport, limit: int, line: str) -> None:
    if len(report.differences) < limit:
        report.differences.append(line)
