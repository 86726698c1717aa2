"""A bare Bolt app served the way the bot is (Starlette under uvicorn), for the start-up and
memory benchmark: `python -m bench.bare_bolt_server PORT [DATABASE_URL]`. One `/support`
listener that acks, and `GET /healthz`.

Given a database URL it first does the least any app on this stack must before its first
acknowledgement: import SQLModel (and with it SQLAlchemy's ORM and pydantic) and connect
once. That is the stack's floor, against which the bot's own start-up cost is seen."""

from __future__ import annotations

import sys

import uvicorn
from slack_bolt import Ack, App
from slack_bolt.adapter.starlette import SlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def build(signing_secret: str = "bench-secret") -> Starlette:
    """The bare app: Bolt at POST /slack/events, "ok" at GET /healthz."""
    app = App(token="xoxb-bench", signing_secret=signing_secret, token_verification_enabled=False)

    @app.command("/support")
    def on_support(ack: Ack) -> None:
        ack()

    handler = SlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def connect_once(database_url: str) -> None:
    """Import the database stack the bot is built on and open one connection."""
    import sqlmodel

    engine = sqlmodel.create_engine(database_url)
    with engine.connect() as connection:
        connection.execute(sqlmodel.text("SELECT 1"))


if __name__ == "__main__":
    if len(sys.argv) > 2:
        connect_once(sys.argv[2])
    uvicorn.run(build(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
