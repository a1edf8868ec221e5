"""Factory for Twilio REST clients that can be pointed at a non-Twilio API host.

The twilio library hard-codes ``https://api.twilio.com`` as the API domain and
offers no base-URL setting. To run the bot against a fake (tests, local
simulator) we swap in an HTTP client that rewrites request URLs just before
they are sent.
"""

from __future__ import annotations

import re
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

import twilio.rest
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

TWILIO_API_BASE_URL = "https://api.twilio.com"

# Without a timeout, requests waits forever on a stalled connection, which would
# hang a webhook handler (and Twilio retries webhooks that take > 15 s).
DEFAULT_TIMEOUT_SECONDS = 10.0

# The client rewrites the host to api.{edge}.{region}.twilio.com when
# TWILIO_EDGE / TWILIO_REGION are set (possibly just in the environment), so
# match those variants too: otherwise a stray env var would silently send
# requests made with fake credentials to the real Twilio.
_TWILIO_API_HOST = re.compile(r"^api(\.[a-z0-9-]+){0,2}\.twilio\.com$", re.IGNORECASE)


class BaseUrlRewritingHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` that sends Twilio API requests to another base URL."""

    def __init__(self, api_base_url: str, timeout: Optional[float] = DEFAULT_TIMEOUT_SECONDS) -> None:
        """Create the client.

        :param api_base_url: Replacement for ``https://api.twilio.com``, e.g.
            ``http://127.0.0.1:8123``. A path prefix is allowed and kept.
        :param timeout: Default socket/read timeout in seconds.
        """
        super().__init__(timeout=timeout)
        self.api_base_url = api_base_url.rstrip("/")

    def rewrite_url(self, url: str) -> str:
        """Return ``url`` with its Twilio API origin replaced by ``api_base_url``.

        Path and query string are kept; URLs for other hosts are returned
        unchanged.
        """
        parts = urlsplit(url)
        # Compare the parsed host rather than a string prefix so that e.g.
        # "https://api.twilio.com.example.org" is not rewritten.
        if parts.scheme != "https" or not _TWILIO_API_HOST.match(parts.netloc):
            return url
        rest = parts.path
        if parts.query:
            rest += "?" + parts.query
        if parts.fragment:
            rest += "#" + parts.fragment
        return self.api_base_url + rest

    def request(
        self,
        method: str,
        url: str,
        params: Optional[Dict[str, object]] = None,
        data: Optional[Dict[str, object]] = None,
        headers: Optional[Dict[str, str]] = None,
        auth: Optional[Tuple[str, str]] = None,
        timeout: Optional[float] = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Rewrite the URL, then perform the request like ``TwilioHttpClient``."""
        return super().request(
            method,
            self.rewrite_url(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def make_twilio_client(
    account_sid: str, auth_token: str, api_base_url: str | None = None
) -> twilio.rest.Client:
    """Build a Twilio REST client, optionally talking to a different API host.

    :param account_sid: Twilio account SID (``AC...``).
    :param auth_token: Auth token for ``account_sid``.
    :param api_base_url: Base URL to use instead of ``https://api.twilio.com``
        (e.g. a ``FakeTwilio.base_url``). ``None`` or the real URL means the
        real Twilio API.
    :returns: A configured ``twilio.rest.Client``.
    """
    http_client: TwilioHttpClient
    if api_base_url and api_base_url.rstrip("/") != TWILIO_API_BASE_URL:
        http_client = BaseUrlRewritingHttpClient(api_base_url, timeout=DEFAULT_TIMEOUT_SECONDS)
    else:
        http_client = TwilioHttpClient(timeout=DEFAULT_TIMEOUT_SECONDS)
    return twilio.rest.Client(account_sid, auth_token, http_client=http_client)
