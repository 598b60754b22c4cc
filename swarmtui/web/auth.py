"""Who may see the web view: whoever holds the access token, then a session cookie.

The token is random per ``serve`` and travels once, in the link printed to the operator's own
terminal; the first request with it gets a session cookie (HttpOnly, SameSite=Strict) and a
redirect to the bare address, so the token leaves the address bar and history. The token is
never written to a log: the request log shows paths without their query.
"""

from __future__ import annotations

import hmac
import secrets
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs, urlsplit

COOKIE = "swarmtui_session"


class Access:
    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self._session = secrets.token_urlsafe(32)

    def token_in(self, path: str) -> bool:
        given = parse_qs(urlsplit(path).query).get("token", [""])[0]
        return hmac.compare_digest(given.encode(), self.token.encode())

    def session_in(self, cookie_header: str | None) -> bool:
        if not cookie_header:
            return False
        try:
            jar = SimpleCookie(cookie_header)
        except CookieError:
            return False
        morsel = jar.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value.encode(),
                                                          self._session.encode())

    def set_cookie(self, secure: bool) -> str:
        flags = "; Secure" if secure else ""
        return f"{COOKIE}={self._session}; Path=/; HttpOnly; SameSite=Strict{flags}"
