"""The indexer's errors: one root, `IndexerError`, with machine-readable codes."""

from __future__ import annotations

from silktrace.errors import SilkTraceError


class IndexerError(SilkTraceError):
    """Base of every error the indexer raises."""

    code = "indexer_error"


class RpcError(IndexerError):
    """The node answered a JSON-RPC call with an error, or not at all."""

    code = "rpc_error"

    def __init__(self, message: str, *, rpc_code: int | None = None, transient: bool = True) -> None:
        super().__init__(message)
        self.rpc_code = rpc_code
        self.transient = transient


class RangeTooLarge(RpcError):
    """The node refused a log query for its size; a smaller block span may pass."""

    code = "range_too_large"


class ChainChanged(IndexerError):
    """The chain moved under a fetch (a reorg in progress); fetch the range again."""

    code = "chain_changed"


class ReorgTooDeep(IndexerError):
    """The chain changed below the deepest reorg the indexer may undo."""

    code = "reorg_too_deep"


class ChainMismatch(IndexerError):
    """The node is not (any more) the chain the mirror was built from: reset or wrong chain."""

    code = "chain_reset"


class Unavailable(IndexerError):
    """The node or the database stayed away longer than allowed."""

    code = "unavailable"
