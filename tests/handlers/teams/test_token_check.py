"""The production token check on `/api/messages`, offline: keys generated in the test and an
OpenID document and key set served by `FakeMicrosoft`. A bad token gets 401; a token that
cannot be checked because Microsoft's signing keys cannot be fetched gets 503 with
`Retry-After`; either way nothing reaches a listener or Microsoft."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from handlers.teams import auth, load_teams_endpoint
from handlers.teams.auth import SdkValidatorShim
from handlers.teams.config import TeamsConfig
from handlers.teams.context import TeamsContext
from handlers.teams.stand_in.fake_microsoft import APP_ID, TENANT_ID, FakeMicrosoft


@dataclass
class Spy:
    """What reached the listeners."""

    seen: list[str] = field(default_factory=list)

    def kick(self) -> None:
        pass


@dataclass
class Harness:
    fake: FakeMicrosoft
    client: TestClient
    spy: Spy
    endpoint: Any

    def post(self, activity: dict[str, Any], token: str | None, **headers: str):
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post("/api/messages", json=activity, headers=headers)


@pytest.fixture
def harness() -> Iterator[Harness]:
    with running_harness(TENANT_ID) as running:
        yield running


@contextmanager
def running_harness(tenant_id: str) -> Iterator[Harness]:
    """The endpoint configured for `tenant_id`, its Microsoft played by a `FakeMicrosoft`."""
    with FakeMicrosoft() as fake:
        config = TeamsConfig(
            client_id=APP_ID,
            tenant_id=tenant_id,
            client_secret="test-secret",
            login_url=fake.login_url,
            openid_metadata_url=fake.openid_metadata_url,
            service_url=fake.service_url,
        )
        spy = Spy()
        ctx = TeamsContext(services=spy, config=config)  # type: ignore[arg-type]

        def register(app: Any, _ctx: Any) -> None:
            @app.on_message
            async def record(activity_ctx: Any) -> None:
                spy.seen.append(activity_ctx.activity.id)

        endpoint = load_teams_endpoint(ctx, max_body=100_000, register=register)

        with TestClient(Starlette(routes=endpoint.routes)) as client:
            yield Harness(fake, client, spy, endpoint)


def test_a_token_teams_signed_is_accepted(harness: Harness) -> None:
    activity = harness.fake.message("we need help with phonics", user="29:head")
    response = harness.post(activity, harness.fake.sign(activity))
    assert response.status_code == 200
    assert harness.spy.seen == [activity["id"]]


def test_our_verifier_stands_in_for_the_sdks(harness: Harness) -> None:
    assert isinstance(harness.endpoint.app.server._token_validator, SdkValidatorShim)


def _other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


BAD_TOKENS = {
    "forged signature": lambda fake, act: fake.sign(act, key=_other_key()),
    "wrong audience": lambda fake, act: fake.sign(act, aud="another-bot"),
    "wrong issuer": lambda fake, act: fake.sign(act, iss="https://evil.example"),
    "expired": lambda fake, act: fake.sign(act, exp=int(time.time()) - 3600),
    "serviceurl mismatch": lambda fake, act: fake.sign(act, serviceurl="https://evil.example/"),
    "unknown kid": lambda fake, act: fake.sign(act, kid="someone-elses-key"),
    "not a JWT": lambda fake, act: "not.a.jwt",
    "empty": lambda fake, act: "",
}


@pytest.mark.parametrize("reason", sorted(BAD_TOKENS))
def test_a_token_that_does_not_verify_gets_401_and_changes_nothing(
    harness: Harness, reason: str
) -> None:
    activity = harness.fake.message("we need help with phonics", user="29:head")
    token = BAD_TOKENS[reason](harness.fake, activity)
    response = harness.post(activity, token)
    assert response.status_code == 401
    assert harness.spy.seen == []
    assert harness.fake.connector_calls() == []


def test_no_token_at_all_gets_401_even_with_a_garbage_body(harness: Harness) -> None:
    response = harness.client.post("/api/messages", content=b"{not json")
    assert response.status_code == 401
    assert harness.spy.seen == []


@dataclass
class Monotonic:
    """The verifier's monotonic clock, moved by the test."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    """Time as the endpoint's verifier sees it, moved by the test (cooldowns without sleeping)."""
    clock = Monotonic()
    monkeypatch.setattr(harness.endpoint.adapter.verifier, "_monotonic", clock)
    return clock


def test_on_a_cold_start_with_microsofts_keys_unreachable_the_answer_is_503_retry_after(
    harness: Harness, monotonic: Monotonic
) -> None:
    harness.fake.set_keys_available(False)
    activity = harness.fake.message("we need help with phonics", user="29:head")
    response = harness.post(activity, harness.fake.sign(activity))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(auth.NO_KEYS_RETRY_SECONDS), "Teams retries soon"
    assert harness.spy.seen == []
    assert harness.fake.connector_calls() == []


def test_once_the_cooldown_is_over_a_request_refused_for_want_of_keys_is_accepted(
    harness: Harness, monotonic: Monotonic
) -> None:
    harness.fake.set_keys_available(False)
    activity = harness.fake.message("we need help with phonics", user="29:head")
    refused = harness.post(activity, harness.fake.sign(activity))
    assert refused.status_code == 503
    retry_after = int(refused.headers["Retry-After"])
    harness.fake.set_keys_available(True)
    monotonic.now += retry_after - 1
    early = harness.post(activity, harness.fake.sign(activity))
    assert (early.status_code, early.headers["Retry-After"]) == (503, "1")
    assert harness.fake.keys_asked == 1, "no fetch before the time Retry-After gave"
    monotonic.now += 1
    assert harness.post(activity, harness.fake.sign(activity)).status_code == 200
    assert harness.spy.seen == [activity["id"]]
    assert harness.fake.keys_asked == 2


def test_with_keys_held_an_outage_refuses_only_what_it_stops_us_checking(
    harness: Harness, monotonic: Monotonic
) -> None:
    first, second, third = (harness.fake.message("hello", user="29:head") for _ in range(3))
    assert harness.post(first, harness.fake.sign(first)).status_code == 200
    signed_by_held_key = harness.fake.sign(second)
    monotonic.now += auth.UNKNOWN_KID_COOLDOWN_SECONDS
    harness.fake.set_keys_available(False)
    harness.fake.rotate_key()  # Microsoft has rolled its key; we cannot fetch the new one

    rotated = harness.post(third, harness.fake.sign(third))
    assert rotated.status_code == 503
    assert rotated.headers["Retry-After"] == str(auth.FAILED_REFRESH_COOLDOWN_SECONDS)
    assert harness.post(second, signed_by_held_key).status_code == 200
    forged = harness.fake.sign(third, kid=harness.fake.kid, key=_other_key())
    assert harness.post(third, forged).status_code == 503, "a kid we cannot fetch: unknown yet"
    held_kid = jwt.get_unverified_header(signed_by_held_key)["kid"]
    assert (
        harness.post(third, harness.fake.sign(third, kid=held_kid, key=_other_key())).status_code
        == 401
    )
    assert harness.post(third, harness.fake.sign(third, kid="random")).status_code == 503
    assert harness.fake.keys_asked == 2, "the outage cost one fetch, not one per request"
    assert harness.spy.seen == [first["id"], second["id"]]

    harness.fake.set_keys_available(True)
    monotonic.now += auth.FAILED_REFRESH_COOLDOWN_SECONDS
    assert harness.post(third, harness.fake.sign(third)).status_code == 200
    assert harness.post(third, harness.fake.sign(third, kid="random")).status_code == 401
    assert harness.spy.seen == [first["id"], second["id"], third["id"]]
    assert harness.fake.connector_calls() == []


def test_a_key_not_endorsed_for_teams_is_refused(harness: Harness) -> None:
    original = harness.fake.jwks

    def without_endorsement() -> dict[str, Any]:
        keys = original()
        keys["keys"][0]["endorsements"] = ["webchat"]
        return keys

    harness.fake.jwks = without_endorsement  # type: ignore[method-assign]
    activity = harness.fake.message("we need help with phonics", user="29:head")
    assert harness.post(activity, harness.fake.sign(activity)).status_code == 401
    assert harness.spy.seen == []


def test_random_kids_do_not_make_it_fetch_keys_again_and_again(harness: Harness) -> None:
    activity = harness.fake.message("hello", user="29:head")
    assert harness.post(activity, harness.fake.sign(activity)).status_code == 200
    for n in range(20):
        assert harness.post(activity, harness.fake.sign(activity, kid=f"k{n}")).status_code == 401
    assert harness.fake.keys_served <= 2


def test_an_activity_from_another_tenant_is_dropped(harness: Harness) -> None:
    activity = harness.fake.message("hello", user="29:head")
    activity["conversation"]["tenantId"] = "another-tenant"
    activity["channelData"]["tenant"]["id"] = "another-tenant"
    assert harness.post(activity, harness.fake.sign(activity)).status_code == 200
    assert harness.spy.seen == []


def test_our_tenant_is_ours_whatever_the_case_of_its_letters() -> None:
    with running_harness(TENANT_ID.upper()) as upper:  # as the Azure portal may copy it
        activity = upper.fake.message("hello", user="29:head")
        assert upper.post(activity, upper.fake.sign(activity)).status_code == 200
        assert upper.spy.seen == [activity["id"]]
    with running_harness(TENANT_ID) as lower:
        activity = lower.fake.message("hello", user="29:head")
        activity["conversation"]["tenantId"] = TENANT_ID.upper()
        assert lower.post(activity, lower.fake.sign(activity)).status_code == 200
        assert lower.spy.seen == [activity["id"]]


def test_an_oversized_body_is_refused(harness: Harness) -> None:
    activity = harness.fake.message("x" * 200_000, user="29:head")
    assert harness.post(activity, harness.fake.sign(activity)).status_code == 413
    assert harness.spy.seen == []


def post_at_once(harness: Harness, count: int) -> list[int]:
    """`count` signed messages posted to `/api/messages` at the same time; their statuses."""
    app = Starlette(routes=harness.endpoint.routes)
    activities = [harness.fake.message("hello", user="29:head") for _ in range(count)]

    async def post_all() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        "/api/messages",
                        json=activity,
                        headers={"Authorization": f"Bearer {harness.fake.sign(activity)}"},
                    )
                    for activity in activities
                )
            )
        return [answer.status_code for answer in answers]

    return asyncio.run(post_all())


def test_on_a_cold_start_requests_arriving_together_share_one_fetch_of_the_keys(
    harness: Harness,
) -> None:
    harness.fake.set_keys_delay(0.2)  # they all arrive while the first fetch is under way
    assert post_at_once(harness, 8) == [200] * 8
    assert (harness.fake.keys_asked, harness.fake.keys_served) == (1, 1)


def test_on_a_cold_start_a_failed_fetch_is_shared_and_not_retried_before_the_cooldown(
    harness: Harness,
) -> None:
    harness.fake.set_keys_available(False)
    harness.fake.set_keys_delay(0.2)
    assert post_at_once(harness, 8) == [503] * 8
    assert harness.fake.keys_asked == 1, "one fetch failed for all of them"
    harness.fake.set_keys_available(True)  # Microsoft is back, but the cooldown holds
    assert post_at_once(harness, 3) == [503] * 3
    assert harness.fake.keys_asked == 1
