"""The simulated SMS network for `make run`: a Twilio-compatible fake plus a web page that shows
each phone's texts and lets you reply as the patient (your reply reaches the gateway as a webhook
signed exactly as Twilio signs it). Bound to 127.0.0.1: it is a local tool, not a product page.
"""
from __future__ import annotations

import email.utils
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import jinja2
from sqlalchemy import select

from bot.db.engine import session_scope
from devkit.fake_twilio import FakeTwilio
from bot.db.models import Patient

_env = jinja2.Environment(autoescape=True)  # patient texts are shown as text, never as HTML
PAGE = _env.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SMS simulator - CAN005 assistant</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;background:#f0f4f5;color:#212b32}
 header{background:#005eb8;color:#fff;padding:12px 20px} main{display:flex;gap:20px;padding:20px;flex-wrap:wrap}
 .phone{background:#fff;border-radius:12px;width:380px;padding:12px;box-shadow:0 1px 4px #0003}
 .thread{height:420px;overflow-y:auto;display:flex;flex-direction:column;gap:6px;padding:4px}
 .msg{max-width:80%;padding:8px 10px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}
 .out{background:#e8edee;align-self:flex-start} .in{background:#007f3b;color:#fff;align-self:flex-end}
 .meta{font-size:11px;color:#4c6272} form{display:flex;gap:6px;margin-top:8px} input[type=text]{flex:1;padding:8px}
 button{padding:8px 12px;background:#007f3b;color:#fff;border:0;border-radius:4px;cursor:pointer}
</style></head><body>
<header><b>SMS simulator</b> - texts the assistant sends appear here; reply as the patient.
 Gateway: {{ gateway }}</header>
<main>
{% for p in phones %}
 <section class="phone" data-number="{{ p.number }}">
  <div><b>{{ p.name }}</b> <span class="meta">{{ p.number }} - date of birth {{ p.dob }}</span></div>
  <form method="post" action="/start"><input type="hidden" name="number" value="{{ p.number }}">
   <button>Start outreach</button></form>
  <div class="thread" id="t-{{ loop.index }}"></div>
  <form class="reply" data-thread="t-{{ loop.index }}"><input type="hidden" name="number" value="{{ p.number }}">
   <input type="text" name="body" placeholder="Reply as the patient" autocomplete="off"><button>Send</button></form>
 </section>
{% else %}<p>No patients yet: add one with <code>outreach patients add</code>.</p>{% endfor %}
</main>
<script>
async function refresh(){
  for (const s of document.querySelectorAll('.phone')){
    const r = await fetch('/thread.json?number=' + encodeURIComponent(s.dataset.number));
    const items = await r.json(); const t = s.querySelector('.thread');
    if (t.dataset.count == items.length) continue;
    t.replaceChildren(...items.map(m => { const d = document.createElement('div');
      d.className = 'msg ' + m.dir; d.textContent = m.body;           // text, never HTML
      const meta = document.createElement('div'); meta.className = 'meta'; meta.textContent = m.meta;
      d.appendChild(meta); return d; }));
    t.dataset.count = items.length; t.scrollTop = t.scrollHeight;
  }
}
for (const f of document.querySelectorAll('form.reply')) f.addEventListener('submit', async e => {
  e.preventDefault(); const data = new URLSearchParams(new FormData(f)); f.body.value = '';
  await fetch('/reply', {method: 'POST', body: data}); refresh(); });
setInterval(refresh, 1000); refresh();
</script></body></html>""")


class Simulator:
    """Serves the page; texts go out through `fake` and replies to `webhook_url`."""

    def __init__(self, fake: FakeTwilio, database_url: str, webhook_url: str, to_number: str,
                 start: Callable[[str], None], host: str = "127.0.0.1", port: int = 8010):
        self.fake, self.database_url, self.webhook_url, self.to_number = fake, database_url, webhook_url, to_number
        self.start_outreach = start
        self.replies: list[dict] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())

    def phones(self) -> list[dict]:
        with session_scope(self.database_url) as session:
            return [{"number": p.mobile, "name": f"{p.first_name} {p.last_name}".strip(),
                     "dob": p.date_of_birth.strftime("%d/%m/%Y")}
                    for p in session.scalars(select(Patient).order_by(Patient.id))]

    def thread(self, number: str) -> list[dict]:
        # Twilio's dates have whole seconds; a reply always comes after what it answers.
        items = [{"dir": "out", "body": m["body"], "meta": f"{m['status']} {m['date_created']}",
                  "t": email.utils.parsedate_to_datetime(m["date_created"]).timestamp() + 0.999}
                 for m in self.fake.messages if m["to"] == number]
        with self._lock:
            items += [dict(r) for r in self.replies if r["number"] == number]
        return sorted(items, key=lambda m: m["t"])

    def reply(self, number: str, body: str) -> int:
        status, _ = self.fake.send_inbound(self.webhook_url, number, self.to_number, body)
        with self._lock:
            self.replies.append({"dir": "in", "number": number, "body": body, "t": time.time(),
                                 "meta": f"webhook answered {status}"})
        return status

    def _handler(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # no message texts or numbers in logs
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/":
                    page = PAGE.render(phones=simulator.phones(), gateway=simulator.webhook_url)
                    self._send(200, page.encode(), "text/html; charset=utf-8")
                elif url.path == "/thread.json":
                    number = urllib.parse.parse_qs(url.query).get("number", [""])[0]
                    self._send(200, json.dumps(simulator.thread(number)).encode(), "application/json")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8"), keep_blank_values=True))
                if self.path == "/reply":
                    self._send(200, str(simulator.reply(form.get("number", ""), form.get("body", ""))).encode(),
                               "text/plain")
                elif self.path == "/start":
                    try:
                        simulator.start_outreach(form.get("number", ""))
                        self.send_response(303)
                        self.send_header("Location", "/")
                        self.end_headers()
                    except Exception as exc:  # shown to the local user: e.g. "already has an open conversation"
                        self._send(409, f"could not start: {exc}".encode(), "text/plain; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain")

        return Handler

    def serve_in_background(self) -> threading.Thread:
        thread = threading.Thread(target=self.server.serve_forever, name="simulator", daemon=True)
        thread.start()
        return thread
