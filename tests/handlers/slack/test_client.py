"""The production Web API client: the outbox owns retries, so the client never re-sends."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from bot.core.settings import load_settings
from handlers.slack.client import make_web_client


@pytest.fixture
def dropping_server() -> Iterator[tuple[str, list[int]]]:
    """A server that reads each request and closes the connection without answering."""
    listener = socket.create_server(("127.0.0.1", 0))
    requests: list[int] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                requests.append(1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    yield f"http://{host}:{port}/api/", requests
    listener.close()
    thread.join(timeout=5)


def test_a_post_whose_connection_dropped_is_not_resent_by_the_client(dropping_server) -> None:
    url, requests = dropping_server
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": url}, env_file=None)
    client = make_web_client(settings)
    with pytest.raises(OSError):
        client.chat_postMessage(channel="UHEAD1", text="You have an offer")
    assert len(requests) == 1, "Slack may have taken it: only the outbox decides to re-send"
