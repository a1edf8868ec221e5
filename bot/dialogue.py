"""The client for the Rasa server: one patient turn, or the start of an outreach conversation.

Rasa's REST channel answers with the bot's texts for the turn, so each reply is tied to the
message that caused it. Rasa's sender id is the conversation's opaque public id, never a phone number.
"""
from __future__ import annotations

from typing import Any, Optional

import requests


class DialogueUnavailable(RuntimeError):
    """Rasa could not be reached or failed; the caller keeps the message and tries again later."""


class RasaClient:
    def __init__(self, base_url: str, token: str = "", timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._http = requests.Session()

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        params = {"token": self.token} if self.token else None
        try:
            response = self._http.post(self.base_url + path, json=payload, params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DialogueUnavailable(f"Rasa unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise DialogueUnavailable(f"Rasa answered HTTP {response.status_code}")
        return response.json()

    def turn(self, sender_id: str, text: str, metadata: Optional[dict] = None) -> list[str]:
        """Send one patient message; return the bot's texts for this turn, in order."""
        safe_text = _plain(text)
        if not safe_text.strip():
            safe_text = "/nlu_fallback"  # an empty text or a picture: treat as not understood
        answer = self._post("/webhooks/rest/webhook",
                            {"sender": sender_id, "message": safe_text, "metadata": metadata or {}})
        return [m["text"] for m in answer if m.get("text")]

    def parse(self, text: str) -> list[tuple[str, float]]:
        """The NLU's intent ranking for a text, without touching any conversation."""
        answer = self._post("/model/parse", {"text": _plain(text) or " "})
        return [(i["name"], float(i["confidence"])) for i in answer.get("intent_ranking") or []]

    def trigger(self, sender_id: str, intent: str) -> list[str]:
        """Start a proactive turn (the outreach opener) with an external intent."""
        answer = self._post(f"/conversations/{sender_id}/trigger_intent",
                            {"name": intent, "entities": {}})
        return [m["text"] for m in answer.get("messages", []) if m.get("text")]

    def is_ready(self) -> bool:
        try:
            return self._http.get(self.base_url + "/status", params={"token": self.token} if self.token else None,
                                  timeout=2).status_code == 200
        except requests.RequestException:
            return False


def _plain(text: str) -> str:
    """A leading "/" would let a patient inject an intent ("/affirm"): Rasa must see plain text."""
    return text.lstrip().lstrip("/") if text.lstrip().startswith("/") else text
