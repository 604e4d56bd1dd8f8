"""Root exception of the shared `silktrace` package."""


class SilkTraceError(Exception):
    """Base of every error the shared package raises; `code` is machine-readable."""

    code = "silktrace_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class GS1Error(SilkTraceError):
    """A malformed GS1 key or Digital Link."""

    code = "invalid_gs1"


class ChainError(SilkTraceError):
    """The node is unreachable, or the deployment does not match it."""

    code = "chain_error"


class CompileError(SilkTraceError):
    """The Solidity sources did not compile."""

    code = "compile_error"
