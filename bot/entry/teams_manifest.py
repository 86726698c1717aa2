"""The Teams app package (`python -m bot teams-manifest`): a zip with `manifest.json`
(schema v1.22) and the two icons Teams requires, ready to upload in the Teams admin centre.

Standard library only: it needs neither the Teams SDK nor an image library. The icons are
drawn here: colour 192×192 (the glyph on the brand colour) and outline 32×32 (white on
transparent, as Teams requires).
"""

from __future__ import annotations

import io
import json
import math
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlparse

SCHEMA = "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
ACCENT = (0x1F, 0x5C, 0x99)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SCOPES = ["personal", "team", "groupChat"]
COMMANDS = [
    ("support", "Ask for school-to-school support"),
    ("home", "Your requests, offers and support at a glance"),
    ("away", "Pause new offers while you are away"),
    ("suggest", "Suggest a colleague for a request you were offered: suggest 12 Sam Jones"),
    ("assign", "Coordinators: assign a request to a supporter: assign 12 Sam Jones"),
    ("visit", "Ask to visit a school and see practice: visit: mastery maths in Year 4"),
    ("visit-assign", "Coordinators: a host for a visit no school took: visit-assign 7 Sam Jones"),
    ("audit", "Coordinators: who did what to a request: audit 12"),
    ("help", "What I can do"),
]
Pixel = Callable[[int, int], tuple[int, int, int, int]]


class ManifestError(ValueError):
    """The package cannot be built as asked (a URL that is not https, no bot id)."""


def app_version() -> str:
    """The package's version, which Teams needs to grow on every re-upload."""
    try:
        return version("school-support-bot")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.1.0"


def public_host(url: str) -> str:
    """The host of the deployment's public https URL; raises `ManifestError` otherwise."""
    parsed = urlparse(url.strip())
    if parsed.scheme != "https" or not parsed.hostname:
        raise ManifestError(f"--url must be the bot's public https:// address, not {url!r}")
    return parsed.netloc.lower()


def teams_manifest(client_id: str, host: str) -> dict[str, Any]:
    """manifest.json for the bot `client_id` served at https://`host`."""
    base = f"https://{host}"
    return {
        "$schema": SCHEMA,
        "manifestVersion": "1.22",
        "version": app_version(),
        # Stable across uploads, so a new package replaces the old app instead of adding one.
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"school-support-bot:teams-app:{client_id}")),
        "developer": {
            "name": "School Support",
            "websiteUrl": base,
            "privacyUrl": f"{base}/privacy",
            "termsOfUseUrl": f"{base}/terms",
        },
        "name": {"short": "School Support", "full": "School-to-school support"},
        "description": {
            "short": "Brokers school-to-school support between heads and system leaders",
            "full": (
                "Headteachers ask for help in Teams; the bot works out what help is needed, "
                "offers it to the best-matched National and Specialist Leaders of Education "
                "and support staff, who accept with a button. It then keeps each deployment "
                "going with check-ins and gives coordinators a weekly digest. Requests about "
                "schools are shared only with the people involved."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [_bot(client_id)],
        "composeExtensions": [_message_action(client_id)],
        "authorization": {
            "permissions": {
                "resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}]
            }
        },
        "webApplicationInfo": {"id": client_id, "resource": f"api://{host}/botid-{client_id}"},
        "validDomains": [host],
    }


def _bot(client_id: str) -> dict[str, Any]:
    commands = [{"title": title, "description": what} for title, what in COMMANDS]
    return {
        "botId": client_id,
        "scopes": SCOPES,
        "isNotificationOnly": False,
        "supportsFiles": False,
        "commandLists": [{"scopes": SCOPES, "commands": commands}],
    }


def _message_action(client_id: str) -> dict[str, Any]:
    """ "Request support from this message", Teams' twin of the Slack message shortcut."""
    return {
        "botId": client_id,
        "commands": [
            {
                "id": "requestSupport",
                "type": "action",
                "context": ["message", "compose"],
                "title": "Request support",
                "description": "Turn this message into a support request",
                "fetchTask": True,
            }
        ],
    }


def png(width: int, height: int, pixel: Pixel) -> bytes:
    """An RGBA PNG of `pixel(x, y)`, written with the standard library."""
    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _in_glyph(x: float, y: float, size: int) -> bool:
    """Two linked rings, one school supporting another, scaled to a `size` square."""
    unit = size / 32
    ring = 1.6 * unit
    for cx in (12.5, 19.5):
        distance = math.hypot(x + 0.5 - cx * unit, y + 0.5 - 16 * unit)
        if abs(distance - 6 * unit) <= ring:
            return True
    return False


def colour_icon() -> bytes:
    """The 192×192 colour icon: the glyph in white on the brand colour, inside the safe area."""

    def pixel(x: int, y: int) -> tuple[int, int, int, int]:
        # The glyph is drawn on 32 units of the central 128 pixels; the rest is background.
        inside = 32 <= x < 160 and 32 <= y < 160 and _in_glyph(x - 32, y - 32, 128)
        return WHITE if inside else (*ACCENT, 255)

    return png(192, 192, pixel)


def outline_icon() -> bytes:
    """The 32×32 outline icon: the glyph in white on transparent, nothing else."""
    return png(32, 32, lambda x, y: WHITE if _in_glyph(x, y, 32) else CLEAR)


def teams_package(client_id: str, url: str) -> bytes:
    """The zip to upload: manifest.json, color.png and outline.png at its root."""
    if not client_id:
        raise ManifestError("TEAMS_CLIENT_ID is not set: the package names the bot by its app id")
    host = public_host(url)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(teams_manifest(client_id, host), indent=2))
        package.writestr("color.png", colour_icon())
        package.writestr("outline.png", outline_icon())
    return out.getvalue()
