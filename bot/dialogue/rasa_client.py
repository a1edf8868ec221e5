"""The client for the Rasa server: one patient turn, or the start of an outreach conversation.

Rasa's REST channel answers with the bot's texts for the turn, so each reply is tied to the
message that caused it. Rasa's sender id is the conversation's opaque public id, never a phone number.

Several Rasa servers (RASA_URL lists them, comma-separated) share one tracker store and a Redis lock
store (endpoints.production.yml), so any of them can take any conversation's next message: calls go
round robin, so the expensive turns (and openers) are spread evenly. A server that cannot be
connected to is skipped for that call (the next one is tried before DialogueUnavailable is raised)
and tried last for a few seconds. A server that took the request but failed or timed out is not: the
turn may have run there, and the processor retries it later rather than running it twice at once.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from typing import Any, Optional, Sequence, Union

import requests
from urllib3.exceptions import ConnectTimeoutError

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5.0  # seconds; a TCP connection to a live server takes milliseconds even when it is busy
DOWN_SECONDS = 5.0     # a server that could not be connected to is tried last for this long


class DialogueUnavailable(RuntimeError):
    """Rasa could not be reached or failed; the caller keeps the message and tries again later."""


def split_urls(urls: Union[str, Sequence[str]]) -> list[str]:
    """RASA_URL's servers: one URL or several, comma-separated (or a list); no trailing slashes."""
    items = urls.split(",") if isinstance(urls, str) else list(urls)
    return [u.strip().rstrip("/") for u in items if u.strip()]


def _never_reached(exc: requests.RequestException) -> bool:
    """True when the request surely never reached the server (refused, no route, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, ConnectTimeoutError)


class RasaClient:
    """One Rasa server or several (`base_url`: a URL, comma-separated URLs, or a list of URLs)."""

    def __init__(self, base_url: Union[str, Sequence[str]], token: str = "", timeout: float = 30.0):
        self.base_urls = split_urls(base_url) or [""]
        self.base_url = self.base_urls[0]  # the first server
        self.token = token
        self.timeout = timeout
        self._http = requests.Session()
        self._lock = threading.Lock()
        self._rotation = {"dialogue": itertools.count()}
        self._down_until: dict[str, float] = {}
        # Requests each server answered, by (server URL, "turn" | "trigger").
        self.served: Counter = Counter()

    def _servers(self, rotation: str) -> list[str]:
        """The servers to try for one call: the next in turn first; ones just found down last."""
        now = time.monotonic()
        with self._lock:
            start = next(self._rotation[rotation])
            down = {url for url, until in self._down_until.items() if until > now}
        n = len(self.base_urls)
        order = [self.base_urls[(start + i) % n] for i in range(n)]
        return sorted(order, key=lambda url: url in down)  # stable: the rotation among live ones stays

    def _post(self, path: str, payload: dict[str, Any], kind: str = "turn") -> Any:
        params = {"token": self.token} if self.token else None
        failure: Optional[requests.RequestException] = None
        for url in self._servers("dialogue"):
            try:
                response = self._http.post(url + path, json=payload, params=params,
                                           timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout))
            except requests.RequestException as exc:
                if not _never_reached(exc):
                    raise DialogueUnavailable(f"Rasa unreachable: {type(exc).__name__}") from None
                self._mark(url, up=False, why=type(exc).__name__)
                failure = exc
                continue  # it never saw the request: the next server may take it
            self._mark(url, up=True)
            with self._lock:
                self.served[(url, kind)] += 1
            break
        else:
            raise DialogueUnavailable(f"Rasa unreachable: {type(failure).__name__}") from None
        if response.status_code != 200:
            raise DialogueUnavailable(f"Rasa answered HTTP {response.status_code}")
        return response.json()

    def turn(self, sender_id: str, text: str, metadata: Optional[dict] = None) -> list[str]:
        """Send one patient message; return the bot's texts for this turn, in order."""
        safe_text = _plain(text)
        if not safe_text.strip():
            safe_text = "/nlu_fallback"  # an empty text or a picture: treat as not understood
        answer = self._post("/webhooks/rest/webhook",
                            {"sender": sender_id, "message": safe_text, "metadata": metadata or {}}, "turn")
        return [m["text"] for m in answer if m.get("text")]

    def waiting_for(self, sender_id: str) -> tuple[Optional[str], list[str]]:
        """The question a conversation is waiting for an answer to (the form's requested slot) and the
        check-in areas still to score, read from Rasa's tracker without touching it. A short timeout:
        it is asked on a safety path, which must not wait for Rasa."""
        params = {"include_events": "NONE", **({"token": self.token} if self.token else {})}
        for url in self._servers("dialogue"):
            try:
                response = self._http.get(f"{url}/conversations/{sender_id}/tracker", params=params,
                                          timeout=(min(CONNECT_TIMEOUT, 2.0), 2.0))
            except requests.RequestException:
                continue
            if response.status_code == 200:
                slots = response.json().get("slots") or {}
                pending = slots.get("concern_pending") or []
                return slots.get("requested_slot"), [str(area) for area in pending]
        raise DialogueUnavailable("Rasa unreachable: the tracker could not be read")

    def trigger(self, sender_id: str, intent: str) -> list[str]:
        """Start a proactive turn (the outreach opener) with an external intent."""
        answer = self._post(f"/conversations/{sender_id}/trigger_intent",
                            {"name": intent, "entities": {}}, "trigger")
        return [m["text"] for m in answer.get("messages", []) if m.get("text")]

    def _mark(self, url: str, up: bool, why: str = "") -> None:
        with self._lock:
            was_down = url in self._down_until
            if up:
                self._down_until.pop(url, None)
            else:
                self._down_until[url] = time.monotonic() + DOWN_SECONDS
        if len(self.base_urls) < 2:
            return  # one server: the caller reports DialogueUnavailable, as ever
        if up and was_down:  # changes only, not every call
            log.info("Rasa server %s answers again", url)
        elif not up and not was_down:
            log.warning("Rasa server %s unreachable (%s); using the others", url, why)

    def is_ready(self) -> bool:
        """At least one server answers GET /status."""
        return any(self.server_ready(url) for url in self.base_urls)

    def server_ready(self, url: str) -> bool:
        try:
            return self._http.get(url + "/status", params={"token": self.token} if self.token else None,
                                  timeout=2).status_code == 200
        except requests.RequestException:
            return False


def _plain(text: str) -> str:
    """A leading "/" would let a patient inject an intent ("/affirm"): Rasa must see plain text."""
    return text.lstrip().lstrip("/") if text.lstrip().startswith("/") else text
