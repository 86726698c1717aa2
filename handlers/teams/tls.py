"""One TLS context for every HTTP client the Teams adapter makes.

Building a context reads and parses the whole CA bundle (about 20–30 ms), and httpx builds one
for each client it is not given one: the sender's token and connector clients at start, the
token check's client at each fetch of Microsoft's keys. The context is built once, the way
httpx would (honouring `SSL_CERT_FILE` and `SSL_CERT_DIR`), and shared; a context serves many
connections and threads. httpcore sets the context's ALPN protocols on each connection it
opens, so every client given this context must speak HTTP/1.1 only: one made with
`http2=True` would switch the others' connections to offering HTTP/2 too.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context for calls to Microsoft (verifying certificates as usual)."""
    return httpx.create_ssl_context()
