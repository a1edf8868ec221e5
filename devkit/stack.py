"""Start the whole stack as separate processes: Rasa server, action server, SMS gateway and the
background process (turns and sender).

Used by `make run` (with the simulated SMS network), by the end-to-end tests and by the
benchmarks, so all three run exactly the same processes.

By default one Rasa server with endpoints.yml (SQLite tracker store, in-memory locks). With
`rasa_servers=N` it starts N Rasa servers, each on its own port, with `rasa_endpoints` (e.g.
endpoints.production.yml: PostgreSQL tracker store, Redis lock store) and `rasa_env` (the tracker
database and Redis settings, given to the Rasa servers only); RASA_URL lists them all.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import requests

from bot.config import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "can005.tar.gz"
BIN = Path(sys.executable).parent
BACKGROUND_NICE = 10  # `nice` for every process but the gateway


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, name: str, timeout: float = 180.0) -> None:
    """Poll a readiness URL until it answers 200; fail at once if the process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode} before it was ready")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)  # readiness polling: nothing to wait on but the port
    raise RuntimeError(f"{name} was not ready at {url} within {timeout:.0f} s")


@dataclass
class Stack:
    """The processes of one deployment on loopback. `env` holds DATABASE_URL, TWILIO_* and so on."""

    env: dict
    workdir: Path
    rasa_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    processor_port: int = field(default_factory=free_port)
    rasa_token: str = "local-rasa-token"
    processes: dict = field(default_factory=dict)
    log_dir: Optional[Path] = None
    rasa_servers: int = 1                   # how many Rasa servers (the first on rasa_port)
    rasa_endpoints: str = "endpoints.yml"   # relative to the project folder, where Rasa runs
    rasa_env: dict = field(default_factory=dict)  # extra environment for the Rasa servers only
    rasa_extra_ports: list = field(default_factory=list)  # ports of servers 2..N (free ones by default)

    def __post_init__(self) -> None:
        if self.rasa_servers < 1:
            raise ValueError("rasa_servers must be at least 1")
        while len(self.rasa_extra_ports) < self.rasa_servers - 1:
            self.rasa_extra_ports.append(free_port())

    @property
    def rasa_ports(self) -> list[int]:
        return [self.rasa_port] + list(self.rasa_extra_ports[:self.rasa_servers - 1])

    @property
    def rasa_names(self) -> list[str]:
        """Process (and log file) names: "rasa", then "rasa-1", "rasa-2"..."""
        return ["rasa" if i == 0 else f"rasa-{i}" for i in range(self.rasa_servers)]

    @property
    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def rasa_url(self) -> str:
        """RASA_URL: the one server's URL, or every server's, comma-separated."""
        return ",".join(self.rasa_urls)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def process_env(self) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        env.update({
            "RASA_URL": self.rasa_url,
            "RASA_TOKEN": self.rasa_token,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
            "RASA_TRACKER_DB": str(self.workdir / "tracker.db"),
            "RASA_TELEMETRY_ENABLED": "false",
            "SANIC_HOST": "127.0.0.1",
            "WAKE_ADDRESS": f"127.0.0.1:{self.processor_port}",
            "PYTHONPATH": str(PROJECT_ROOT),
        })
        env.setdefault("PUBLIC_BASE_URL", self.gateway_url)
        return env

    def _spawn(self, name: str, args: list[str], background: bool = False,
               extra_env: Optional[dict] = None) -> subprocess.Popen:
        """Start one process. `background` ones (Rasa, actions, turns) run at a lower CPU priority
        than the gateway, so Twilio's webhooks are answered at once even when turns fill the CPU."""
        log_dir = self.log_dir or self.workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")
        env = self.process_env()
        env.update(extra_env or {})
        process = subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=(lambda: os.nice(BACKGROUND_NICE)) if background else None)
        self.processes[name] = process
        return process

    def start_rasa(self, model: Path = MODEL, index: Optional[int] = None) -> None:
        """Start Rasa server `index` (0 is "rasa"), or, by default, every one that is not running."""
        if not model.exists():
            raise RuntimeError(f"no trained model at {model}: run `make model`")
        indexes = [index] if index is not None else [
            i for i, name in enumerate(self.rasa_names)
            if name not in self.processes or self.processes[name].poll() is not None]
        for i in indexes:
            process = self._spawn(self.rasa_names[i], [
                str(BIN / "rasa"), "run", "--enable-api", "--auth-token", self.rasa_token,
                "-m", str(model), "-i", "127.0.0.1", "-p", str(self.rasa_ports[i]),
                "--endpoints", self.rasa_endpoints, "--credentials", "credentials.yml"],
                background=True, extra_env=self.rasa_env)
            if i == 0:
                self._rasa_process = process

    def start_actions(self) -> None:
        self._actions_process = self._spawn("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "actions",
                                                        "-p", str(self.actions_port)], background=True)

    def start_gateway(self) -> None:
        self._gateway_process = self._spawn("gateway", [sys.executable, "-m", "bot.cli", "gateway",
                                                        "--port", str(self.gateway_port)])

    def start_processor(self) -> None:
        self._spawn("processor", [sys.executable, "-m", "bot.cli", "processor"], background=True)

    def wait_ready(self) -> None:
        if "processor" in self.processes:
            wait_until_ready(f"http://127.0.0.1:{self.processor_port}/health", self.processes["processor"],
                             "background process")
        if "actions" in self.processes:
            wait_until_ready(f"http://127.0.0.1:{self.actions_port}/health", self.processes["actions"], "action server")
        if "gateway" in self.processes:
            wait_until_ready(f"{self.gateway_url}/health", self.processes["gateway"], "gateway")
        for name, url in zip(self.rasa_names, self.rasa_urls):
            if name in self.processes:
                wait_until_ready(f"{url}/status?token={self.rasa_token}", self.processes[name],
                                 "Rasa server" if name == "rasa" else f"Rasa server {name}")

    def start(self) -> "Stack":
        self.start_rasa()
        self.start_actions()
        self.start_gateway()
        self.start_processor()
        self.wait_ready()
        return self

    def stop_one(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_one(name)
