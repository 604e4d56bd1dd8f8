"""The chain: JSON-RPC connection, transactions, the deployment file and the local Anvil process."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted
from web3.middleware import ExtraDataToPOAMiddleware

from silktrace.config import Settings
from silktrace.errors import ChainError
from silktrace.solc import Artifact, compile_contracts, compiler_version

LEDGER = "TraceLedger"


def connect(rpc_url: str, *, timeout: float = 30.0, wait: float = 0.0) -> Web3:
    """A Web3 over HTTP JSON-RPC; waits up to `wait` seconds for the node to answer."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
    # Besu/geth clique and QBFT put more than 32 bytes in extraData.
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    deadline = time.monotonic() + wait
    while True:
        try:
            w3.eth.chain_id  # noqa: B018 - a cheap liveness probe
            return w3
        except Exception as exc:
            if time.monotonic() >= deadline:
                raise ChainError(
                    f"no EVM node answers at {rpc_url}: {exc}", code="chain_unreachable"
                ) from exc
            time.sleep(0.2)


def is_dev_node(w3: Web3) -> bool:
    """Whether the node is a local development node with unlocked accounts (Anvil)."""
    try:
        return "anvil" in str(w3.client_version).lower()
    except Exception:
        return False


@dataclass
class ContractInfo:
    """Where one contract lives and what it was built from."""

    address: str
    start_block: int
    tx_hash: str
    abi_sha256: str
    bytecode_sha256: str


@dataclass
class Deployment:
    """The file `silktrace deploy` writes and every other layer reads."""

    chain_id: int
    genesis_hash: str
    deployer: str
    deployed_at: str
    compiler: str
    contracts: dict[str, ContractInfo]
    abi: dict[str, list[dict[str, Any]]] = field(repr=False)

    @property
    def ledger(self) -> ContractInfo:
        return self.contracts[LEDGER]

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ChainError(
                f"no deployment file at {path}: run `silktrace deploy` first", code="not_deployed"
            ) from exc
        contracts = {k: ContractInfo(**v) for k, v in raw.pop("contracts").items()}
        return cls(contracts=contracts, **raw)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    def contract(self, w3: Web3, name: str = LEDGER) -> Contract:
        return w3.eth.contract(
            address=to_checksum_address(self.contracts[name].address), abi=self.abi[name]
        )

    def check(self, w3: Web3) -> None:
        """Fail loudly when the node is not the chain this deployment was made on."""
        chain_id = w3.eth.chain_id
        if chain_id != self.chain_id:
            raise ChainError(
                f"deployment is for chain {self.chain_id}, node is chain {chain_id}",
                code="wrong_chain",
            )
        genesis = w3.eth.get_block(0)["hash"].to_0x_hex()
        if genesis != self.genesis_hash:
            raise ChainError(
                "the node's genesis block differs from the deployment's: the chain was reset",
                code="chain_reset",
            )
        if not w3.eth.get_code(to_checksum_address(self.ledger.address)):
            raise ChainError(
                f"no contract code at {self.ledger.address}: the chain was reset or rolled back",
                code="chain_reset",
            )


class Sender:
    """Sends transactions from one account: a local key, or an unlocked dev-node account."""

    def __init__(
        self, w3: Web3, account: LocalAccount | None = None, address: str | None = None
    ) -> None:
        if account is None and address is None:
            raise ValueError("a Sender needs a key or an unlocked address")
        self.w3 = w3
        self.account = account
        self.address = to_checksum_address(account.address if account else str(address))

    @classmethod
    def from_settings(cls, w3: Web3, settings: Settings) -> Sender:
        if settings.deployer_key is not None:
            return cls(w3, Account.from_key(settings.deployer_key.get_secret_value()))
        if is_dev_node(w3):
            return cls(w3, address=w3.eth.accounts[0])
        raise ChainError(
            "SILKTRACE_DEPLOYER_KEY is not set and the node has no unlocked dev accounts",
            code="no_deployer_key",
        )

    def send(self, tx: dict[str, Any], *, timeout: float = 120.0) -> Any:
        """Send, wait until mined, and return the receipt; a revert raises with its decoded error."""
        tx = {**tx, "from": self.address}
        try:
            if self.account is None:
                tx_hash = self.w3.eth.send_transaction(tx)  # type: ignore[arg-type]
            else:
                tx.setdefault("nonce", self.w3.eth.get_transaction_count(self.address, "pending"))
                tx.setdefault("chainId", self.w3.eth.chain_id)
                if "gas" not in tx:
                    tx["gas"] = int(self.w3.eth.estimate_gas(tx) * 1.2)  # type: ignore[arg-type]
                if "maxFeePerGas" not in tx and "gasPrice" not in tx:
                    base = self.w3.eth.get_block("latest").get("baseFeePerGas", 0)
                    tx["maxPriorityFeePerGas"] = self.w3.eth.max_priority_fee
                    tx["maxFeePerGas"] = 2 * base + tx["maxPriorityFeePerGas"]
                signed = self.account.sign_transaction(tx)
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout)
        except (ContractCustomError, ContractLogicError) as exc:
            raise ChainError(f"transaction reverted: {exc}", code="reverted") from exc
        except TimeExhausted as exc:
            raise ChainError(f"transaction not mined within {timeout}s", code="not_mined") from exc
        if receipt["status"] != 1:
            raise ChainError(
                f"transaction {receipt['transactionHash'].to_0x_hex()} reverted", code="reverted"
            )
        return receipt


def deploy(settings: Settings, w3: Web3, *, force: bool = False, log: Any = print) -> Deployment:
    """Compile if needed and deploy the ledger, unless the deployment file already matches the chain."""
    artifacts = compile_contracts(settings)
    ledger: Artifact = artifacts[LEDGER]
    bytecode_sha = hashlib.sha256(bytes.fromhex(ledger.bytecode)).hexdigest()
    if settings.deployment_file.exists() and not force:
        try:
            current = Deployment.load(settings.deployment_file)
            current.check(w3)
            if current.ledger.bytecode_sha256 == bytecode_sha:
                log(
                    f"ledger already deployed at {current.ledger.address} (block {current.ledger.start_block})"
                )
                return current
            log("contract sources changed since the last deployment: deploying anew")
        except ChainError as exc:
            log(f"existing deployment is not usable ({exc.message}): deploying anew")
    sender = Sender.from_settings(w3, settings)
    factory = w3.eth.contract(abi=ledger.abi, bytecode=ledger.bytecode)
    tx = factory.constructor(sender.address, settings.admin_delay_s).build_transaction(
        {"from": sender.address}
    )
    receipt = sender.send(tx)
    deployment = Deployment(
        chain_id=w3.eth.chain_id,
        genesis_hash=w3.eth.get_block(0)["hash"].to_0x_hex(),
        deployer=sender.address,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        compiler=compiler_version(settings),
        contracts={
            LEDGER: ContractInfo(
                address=receipt["contractAddress"],
                start_block=receipt["blockNumber"],
                tx_hash=receipt["transactionHash"].to_0x_hex(),
                abi_sha256=ledger.abi_sha256,
                bytecode_sha256=bytecode_sha,
            )
        },
        abi={name: a.abi for name, a in artifacts.items() if a.bytecode},
    )
    deployment.save(settings.deployment_file)
    log(f"deployed {LEDGER} at {receipt['contractAddress']} in block {receipt['blockNumber']}")
    return deployment


class Anvil:
    """A local Anvil node whose chain is kept in a state file, for `silktrace chain` and tests."""

    def __init__(
        self,
        binary: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8545,
        state_dir: Path | None = None,
        state_interval: int = 1,
        chain_id: int = 31337,
        block_time: float | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.binary = binary
        self.host, self.port = host, port
        self.state_dir = state_dir
        self.state_interval = state_interval
        self.chain_id = chain_id
        self.block_time = block_time
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state_file(self) -> Path | None:
        return self.state_dir / "state.json" if self.state_dir else None

    def command(self) -> list[str]:
        cmd = [str(self.binary), "--host", self.host, "--port", str(self.port)]
        cmd += ["--chain-id", str(self.chain_id)]
        if self.state_file is not None:
            cmd += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        return cmd

    def start(self, *, wait: float = 30.0) -> Anvil:
        if not self.binary.exists():
            raise ChainError(
                f"Anvil not found at {self.binary}: run `npm ci` (scripts/setup.sh does)",
                code="anvil_missing",
            )
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        out: Any = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ChainError(
                    f"Anvil exited with code {self.proc.returncode} (port {self.port} in use?)",
                    code="anvil_failed",
                )
            try:
                connect(self.url, timeout=1.0)
                return self
            except ChainError:
                time.sleep(0.1)
        self.stop()
        raise ChainError(f"Anvil did not answer on {self.url} within {wait}s", code="anvil_failed")

    def stop(self, *, timeout: float = 15.0) -> None:
        """SIGINT, so that Anvil writes its state file; SIGKILL if it does not exit."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: what a crash does; up to `state_interval` seconds of blocks are lost."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
