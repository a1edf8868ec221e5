"""Wake-ups from the gateway to the background process, over loopback UDP.

The gateway only verifies, stores and answers webhooks; the background process (`outreach
processor`) runs the turns and sends. After storing a text the gateway says "in"; after queueing a
coordinator's reply it says "out". Best effort by design: a datagram carries no personal data and
may be lost, because the background process also polls (INBOUND_RETRY_SECONDS, SENDER_POLL_SECONDS).
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Callable

log = logging.getLogger(__name__)
INBOUND, OUTBOUND = b"in", b"out"


def parse_address(text: str) -> tuple[str, int]:
    """"127.0.0.1:8002" -> ("127.0.0.1", 8002); ValueError naming the setting otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"WAKE_ADDRESS must be host:port, e.g. 127.0.0.1:8002, got {text!r}")
    return host, int(port)


class Waker:
    """The gateway's side: fire-and-forget datagrams, never blocking a webhook."""

    def __init__(self, address: str):
        self.address = parse_address(address)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)

    def _send(self, what: bytes) -> None:
        try:
            self._socket.sendto(what, self.address)
        except OSError:  # the background process is restarting: its poll picks the work up
            pass

    def inbound(self) -> None:
        self._send(INBOUND)

    def outbound(self) -> None:
        self._send(OUTBOUND)


def listen(address: str, on_inbound: Callable[[], None], on_outbound: Callable[[], None],
           stopping: threading.Event, bound: threading.Event) -> None:
    """The background process's side: call the handler for each datagram until `stopping`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(parse_address(address))
        sock.settimeout(0.5)  # to notice `stopping`
        bound.set()
        while not stopping.is_set():
            try:
                what, _ = sock.recvfrom(16)
            except socket.timeout:
                continue
            try:
                if what == INBOUND:
                    on_inbound()
                elif what == OUTBOUND:
                    on_outbound()
            except Exception:
                log.exception("wake-up handler failed; the poll will retry")
