"""Microsoft's signing keys during an outage: once the cached keys are a day old and fetching
them again fails, the bot keeps verifying with the keys it has, tries again only after a
cooldown, and requests that hold a usable key never queue behind a fetch in progress."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from handlers.teams import auth
from handlers.teams.stand_in.fake_microsoft import FakeMicrosoft

METADATA = "https://login.example/v1/.well-known/openidconfiguration"
SERVICE_URL = "https://smba.example/"
DAY = 24 * 3600


@dataclass
class Microsoft:
    """Microsoft's key endpoints, played offline: up or down, answering at once or on cue."""

    fake: FakeMicrosoft
    up: bool = True
    answer: asyncio.Event | None = None  # when set, each fetch waits for it
    attempts: list[str] = field(default_factory=list)
    now: float = 1000.0
    publishes_no_keys: bool = False

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.attempts.append(request.url.path)
        if self.answer is not None:
            await self.answer.wait()
        if not self.up:
            raise httpx.ConnectError("unreachable", request=request)
        if request.url.path.endswith("openidconfiguration"):
            return httpx.Response(200, json={"jwks_uri": "https://login.example/keys"})
        return httpx.Response(
            200, json={"keys": []} if self.publishes_no_keys else self.fake.jwks()
        )

    def verifier(self) -> auth.BotFrameworkVerifier:
        return auth.BotFrameworkVerifier(
            app_id=self.fake.app_id, openid_metadata_url=METADATA, monotonic=lambda: self.now
        )

    def token(self) -> str:
        return self.fake.sign({"serviceUrl": SERVICE_URL})


@pytest.fixture
def microsoft(monkeypatch: pytest.MonkeyPatch) -> Iterator[Microsoft]:
    with FakeMicrosoft() as fake:
        played = Microsoft(fake)
        real = httpx.AsyncClient
        transport = httpx.MockTransport(played.handle)
        monkeypatch.setattr(auth.httpx, "AsyncClient", lambda **kw: real(transport=transport, **kw))
        yield played


def test_an_outage_after_a_day_keeps_the_keys_and_waits_before_trying_again(
    microsoft: Microsoft,
) -> None:
    verifier, token = microsoft.verifier(), microsoft.token()

    async def scenario() -> None:
        await verifier.verify(token, SERVICE_URL)
        microsoft.now += DAY + 60
        microsoft.up = False
        microsoft.attempts.clear()
        for _ in range(20):
            await verifier.verify(token, SERVICE_URL)
        assert len(microsoft.attempts) == 1, "one failed fetch, then the cooldown"
        microsoft.now += auth.FAILED_REFRESH_COOLDOWN_SECONDS + 1
        microsoft.up = True
        await verifier.verify(token, SERVICE_URL)
        assert verifier.fetches == 2, "fetched again once the cooldown is over"

    asyncio.run(scenario())


def test_requests_holding_a_usable_key_do_not_wait_for_a_fetch(microsoft: Microsoft) -> None:
    verifier, token = microsoft.verifier(), microsoft.token()

    async def scenario() -> None:
        await verifier.verify(token, SERVICE_URL)
        microsoft.now += DAY + 60
        microsoft.answer = asyncio.Event()  # Microsoft is slow to answer
        refreshing = asyncio.create_task(verifier.verify(token, SERVICE_URL))
        await asyncio.sleep(0.01)  # the first request is now waiting on the fetch
        others = [verifier.verify(token, SERVICE_URL) for _ in range(5)]
        claims = await asyncio.wait_for(asyncio.gather(*others), timeout=1)
        assert len(claims) == 5 and not refreshing.done()
        microsoft.answer.set()
        await refreshing

    asyncio.run(scenario())


def test_with_no_keys_yet_a_failed_fetch_is_shared_and_retried_after_the_cooldown(
    microsoft: Microsoft,
) -> None:
    verifier, token = microsoft.verifier(), microsoft.token()

    async def refused() -> bool:
        try:
            await verifier.verify(token, SERVICE_URL)
        except auth.KeysUnavailable:
            return True
        return False

    async def scenario() -> None:
        microsoft.up = False
        microsoft.answer = asyncio.Event()  # every request arrives during the one fetch
        waiting = [asyncio.create_task(refused()) for _ in range(10)]
        await asyncio.sleep(0.01)
        microsoft.answer.set()
        assert await asyncio.gather(*waiting) == [True] * 10
        assert len(microsoft.attempts) == 1, "one fetch failed for all of them"
        microsoft.up = True
        microsoft.now += auth.NO_KEYS_RETRY_SECONDS - 1
        assert await refused(), "still cooling down: no fetch"
        assert len(microsoft.attempts) == 1
        microsoft.now += 2
        assert not await refused(), "the cooldown is over: fetched and verified"
        assert verifier.fetches == 1

    asyncio.run(scenario())


def test_an_empty_key_set_is_an_outage_not_a_reason_to_call_every_token_forged(
    microsoft: Microsoft,
) -> None:
    verifier, token = microsoft.verifier(), microsoft.token()
    microsoft.publishes_no_keys = True

    async def scenario() -> None:
        with pytest.raises(auth.KeysUnavailable) as refused:
            await verifier.verify(token, SERVICE_URL)
        assert refused.value.retry_after == auth.NO_KEYS_RETRY_SECONDS
        microsoft.publishes_no_keys = False
        microsoft.now += refused.value.retry_after
        assert (await verifier.verify(token, SERVICE_URL))["serviceurl"] == SERVICE_URL

    asyncio.run(scenario())
