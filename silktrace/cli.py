"""The `silktrace` command: chain, deploy, index, serve, status, verify, up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from silktrace.chain import Anvil, ChainError, Deployment, connect, deploy
from silktrace.config import Settings, get_settings
from silktrace.errors import SilkTraceError

app = typer.Typer(
    help="SilkTrace: quality-responsibility traceability for cross-border imported goods.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _fail(exc: SilkTraceError) -> typer.Exit:
    err.print(f"[bold red]error[/] [dim]({exc.code})[/]: {exc.message}")
    return typer.Exit(code=1)


def _anvil(settings: Settings) -> Anvil:
    return Anvil(
        settings.anvil_bin,
        host=settings.chain_host,
        port=settings.chain_port,
        state_dir=settings.chain_dir,
        state_interval=settings.chain_state_interval,
        chain_id=settings.chain_id,
        log_file=settings.data_dir / "logs" / "anvil.log",
    )


@app.command()
def chain() -> None:
    """Run a local Anvil node whose blocks are kept in the data directory across restarts."""
    settings = _settings()
    node = _anvil(settings)
    try:
        node.start()
    except SilkTraceError as exc:
        raise _fail(exc) from exc
    console.print(
        f"chain running at [bold]{node.url}[/] (state: {node.state_file}); Ctrl-C stops it"
    )
    try:
        assert node.proc is not None
        node.proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()


@app.command("deploy")
def deploy_cmd(
    force: Annotated[bool, typer.Option(help="deploy anew even if the deployment matches")] = False,
) -> None:
    """Compile when sources changed, deploy the ledger and write the deployment file."""
    settings = _settings()
    try:
        w3 = connect(settings.rpc_url, wait=10)
        d = deploy(settings, w3, force=force, log=console.print)
    except SilkTraceError as exc:
        raise _fail(exc) from exc
    console.print(f"deployment file: {settings.deployment_file} (chain {d.chain_id})")


def _index_progress(settings: Settings, follow: bool, stop: threading.Event | None = None) -> None:
    from indexer.runner import run

    state: dict[str, Any] = {"task": None, "start": None}
    with Progress(
        TextColumn("[bold]indexing[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10} ev/s"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:

        def on_progress(indexed: int, head: int, events: int, eps: float) -> None:
            if state["task"] is None:
                state["start"] = indexed
                state["task"] = progress.add_task(
                    "catch-up", total=max(head - indexed, 1), rate="0"
                )
            progress.update(
                state["task"],
                total=max(head - state["start"], 1),
                completed=indexed - state["start"],
                rate=f"{eps:,.0f}",
            )
            if indexed >= head and follow:
                progress.update(
                    state["task"],
                    description=f"following: block {indexed}, head {head}, {events:,} events",
                )

        run(settings, follow=follow, stop_event=stop, on_progress=on_progress)


@app.command()
def index(
    follow: Annotated[bool, typer.Option(help="keep following the chain after catching up")] = True,
) -> None:
    """Mirror the ledger's events into SQL (progress while catching up, then follow)."""
    settings = _settings()
    try:
        _index_progress(settings, follow)
    except KeyboardInterrupt:
        pass
    except SilkTraceError as exc:
        raise _fail(exc) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port")] = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate: phones open the camera only over https")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key")] = None,
) -> None:
    """Run the API (and the scanner page at /scan)."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level="info",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )


@app.command()
def verify() -> None:
    """Re-read the chain and compare it with the SQL mirror; exit 1 on any difference."""
    from indexer.verify import verify as run_verify

    settings = _settings()
    try:
        report = run_verify(settings)
    except SilkTraceError as exc:
        raise _fail(exc) from exc
    for line in report.differences[:200]:
        console.print(f"[red]✗[/] {line}")
    if report.ok:
        console.print(f"[green]✓[/] mirror equals the chain ({report.summary})")
        return
    console.print(f"[bold red]{len(report.differences)} difference(s)[/] ({report.summary})")
    raise typer.Exit(code=1)


def _status(settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"data_dir": str(settings.data_dir), "rpc_url": settings.rpc_url}
    head = None
    try:
        w3 = connect(settings.rpc_url, timeout=2)
        head = w3.eth.block_number
        out["chain"] = {"up": True, "chain_id": w3.eth.chain_id, "head": head}
    except ChainError as exc:
        out["chain"] = {"up": False, "error": exc.message}
    try:
        d = Deployment.load(settings.deployment_file)
        out["deployment"] = {"ledger": d.ledger.address, "start_block": d.ledger.start_block}
    except ChainError as exc:
        out["deployment"] = {"error": exc.message}
    try:
        from sqlalchemy import select
        from sqlmodel import Session

        from indexer.schema import IndexerCursor
        from silktrace.db import create_db_engine

        engine = create_db_engine(settings.sql_url())
        with Session(engine) as s:
            cursor = s.exec(select(IndexerCursor)).scalars().first()  # type: ignore[call-overload]
        engine.dispose()
        if cursor is None:
            out["indexer"] = {"indexed_block": None}
        else:
            out["indexer"] = {
                "indexed_block": cursor.block_number,
                "behind": None if head is None else max(head - cursor.block_number, 0),
                "updated_at": cursor.updated_at.isoformat(),
            }
    except Exception as exc:  # a missing database is a status, not a crash
        out["indexer"] = {"error": str(exc).splitlines()[0]}
    url = f"http://{settings.api_host}:{settings.api_port}"
    try:
        r = httpx.get(f"{url}/health", timeout=2)
        out["api"] = {"up": r.status_code == 200, "url": url, "health": r.json()}
    except httpx.HTTPError as exc:
        out["api"] = {"up": False, "url": url, "error": type(exc).__name__}
    return out


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """What runs, where, and how far the indexer is behind the chain."""
    info = _status(_settings())
    if as_json:
        console.print_json(json.dumps(info))
        return
    table = Table(show_header=False, box=None)
    c, d, i, a = info["chain"], info["deployment"], info["indexer"], info["api"]
    table.add_row("data", info["data_dir"])
    table.add_row(
        "chain",
        f"[green]up[/] {info['rpc_url']} chain {c['chain_id']} head {c['head']}"
        if c.get("up")
        else f"[red]down[/] {info['rpc_url']}: {c.get('error')}",
    )
    table.add_row(
        "ledger",
        (d.get("ledger") and f"{d['ledger']} from block {d['start_block']}")
        or f"[red]{d['error']}[/]",
    )
    if "error" in i:
        table.add_row("indexer", f"[red]{i['error']}[/]")
    elif i["indexed_block"] is None:
        table.add_row("indexer", "nothing indexed yet")
    else:
        table.add_row("indexer", f"block {i['indexed_block']}, {i['behind']} behind")
    table.add_row("api", f"[green]up[/] {a['url']}" if a.get("up") else f"[red]down[/] {a['url']}")
    console.print(table)


class _Children:
    """Child processes of `silktrace up`, stopped in reverse order."""

    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = {**os.environ, **env}
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{name}.log").open("ab")
        # Own process group, so that the terminal's Ctrl-C reaches only us and we stop them in order.
        proc = subprocess.Popen(
            [sys.executable, "-m", "silktrace.cli", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=self.env,
        )
        self.procs.append((name, proc))
        return proc

    def dead(self) -> list[str]:
        return [name for name, p in self.procs if p.poll() is not None]

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_http(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


@app.command()
def up(
    demo: Annotated[bool, typer.Option(help="load the demo scenario")] = True,
) -> None:
    """Start chain, contracts, indexer, API and scanner page with demo data; Ctrl-C stops all."""
    settings = _settings()
    # Ctrl-C, and SIGTERM from a service manager, stop everything in order, even when the shell
    # that started us left SIGINT ignored (as background jobs of scripts are).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    node = _anvil(settings)
    # The children follow the chain this command starts, wherever the settings pointed.
    children = _Children(settings.data_dir / "logs", {"SILKTRACE_RPC_URL": node.url})
    settings = settings.model_copy(update={"rpc_url": node.url})
    try:
        resumed = node.state_file is not None and node.state_file.exists()
        console.print(
            f"[bold]chain[/]  {'resuming' if resumed else 'starting'} Anvil at {node.url}"
        )
        node.start()
        w3 = connect(node.url)
        console.print(f"[bold]ledger[/] chain {w3.eth.chain_id} at block {w3.eth.block_number}")
        d = deploy(settings, w3, log=lambda m: console.print(f"       {m}"))
        from silktrace.db import create_db_engine, create_tables

        engine = create_db_engine(settings.sql_url())
        create_tables(engine)
        engine.dispose()
        children.spawn("indexer", ["index"])
        children.spawn("api", ["serve"])
        api_url = f"http://{settings.api_host}:{settings.api_port}"
        if not _wait_http(f"{api_url}/health", 60):
            raise SilkTraceError(
                f"the API did not answer at {api_url}/health; see {children.log_dir}/api.log",
                code="api_failed",
            )
        console.print(f"[bold]api[/]    {api_url} (indexer and API logs in {children.log_dir})")
        links: list[str] = []
        if demo:
            from api.demo import load_demo

            info = load_demo(settings, log=lambda m: console.print(f"[bold]demo[/]   {m}"))
            links = list(info.links)
        console.print()
        console.print("[bold green]SilkTrace is running.[/] Open in a browser:")
        console.print(f"  scanner page   {api_url}/scan")
        console.print(f"  API docs       {api_url}/docs")
        for link in links:
            # Never wrapped: a broken line is a broken link.
            console.print(f"  demo item      {link}", soft_wrap=True, highlight=False)
        console.print(f"  ledger         {d.ledger.address} on {node.url}", soft_wrap=True)
        console.print(
            "Ctrl-C stops everything; `silktrace up` again resumes the same chain and data."
        )
        while True:
            dead = children.dead()
            if dead:
                raise SilkTraceError(
                    f"{', '.join(dead)} stopped unexpectedly; see {children.log_dir}",
                    code="child_died",
                )
            if node.proc is not None and node.proc.poll() is not None:
                raise SilkTraceError("Anvil stopped unexpectedly", code="child_died")
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("\nstopping…")
    except SilkTraceError as exc:
        children.stop()
        node.stop()
        raise _fail(exc) from exc
    finally:
        children.stop()
        node.stop()
    console.print("stopped; chain state and database kept in", str(settings.data_dir))


def main() -> None:
    """Entry point that keeps tracebacks out of users' terminals for our own errors."""
    try:
        app()
    except SilkTraceError as exc:
        err.print(f"[bold red]error[/] ({exc.code}): {exc.message}")
        sys.exit(1)


if __name__ == "__main__":
    # Children started by `up` get SIGINT from us, never the terminal's Ctrl-C directly.
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
