"""Start the whole stack as separate processes: Rasa server, action server, SMS gateway and the
background process (turns and sender).

Used by `make run` (with the simulated SMS network), by the end-to-end tests and by the
benchmarks, so all three run exactly the same processes.
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

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

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

    def _spawn(self, name: str, args: list[str], background: bool = False) -> subprocess.Popen:
        """Start one process. `background` ones (Rasa, actions, turns) run at a lower CPU priority
        than the gateway, so Twilio's webhooks are answered at once even when turns fill the CPU."""
        log_dir = self.log_dir or self.workdir
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(args, cwd=PROJECT_ROOT, env=self.process_env(), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=(lambda: os.nice(BACKGROUND_NICE)) if background else None)
        self.processes[name] = process
        return process

    def start_rasa(self, model: Path = MODEL) -> None:
        if not model.exists():
            raise RuntimeError(f"no trained model at {model}: run `make model`")
        process = self._spawn("rasa", [str(BIN / "rasa"), "run", "--enable-api", "--auth-token", self.rasa_token,
                                       "-m", str(model), "-i", "127.0.0.1", "-p", str(self.rasa_port),
                                       "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"], background=True)
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
        if "rasa" in self.processes:
            wait_until_ready(f"{self.rasa_url}/status?token={self.rasa_token}", self.processes["rasa"], "Rasa server")

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
