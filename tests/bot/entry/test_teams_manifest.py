"""`python -m bot teams-manifest`: the zip Teams takes, checked file by file: the manifest's
fields, the icons' sizes from their PNG headers and every pixel of the outline icon."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import uuid
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.entry.teams_manifest import ManifestError, teams_package

ROOT = Path(__file__).resolve().parents[3]
CLIENT = "11111111-2222-4333-8444-555555555555"
TEAMS_ENV = {
    "TEAMS_CLIENT_ID": CLIENT,
    "TEAMS_CLIENT_SECRET": "s",
    "TEAMS_TENANT_ID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
}


def cli(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "teams-manifest", *args],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    return width, height


def rgba_pixels(data: bytes) -> list[tuple[int, int, int, int]]:
    """Every pixel of an 8-bit RGBA PNG whose rows are unfiltered (as ours are)."""
    width, height = png_size(data)
    chunks, at = b"", 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            chunks += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw = zlib.decompress(chunks)
    stride = 1 + 4 * width
    pixels = []
    for y in range(height):
        assert raw[y * stride] == 0  # filter type None
        row = raw[y * stride + 1 : (y + 1) * stride]
        pixels += [tuple(row[i : i + 4]) for i in range(0, len(row), 4)]
    return pixels  # type: ignore[return-value]  # 4-tuples by construction


def test_the_package_holds_exactly_the_manifest_and_both_icons(tmp_path: Path) -> None:
    result = cli(
        tmp_path, "--url", "https://Support.Example.org/", "--out", "app.zip", env=TEAMS_ENV
    )
    assert result.returncode == 0, result.stderr
    assert "app.zip" in result.stdout
    with zipfile.ZipFile(tmp_path / "app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        colour, outline = package.read("color.png"), package.read("outline.png")

    assert manifest["manifestVersion"] == "1.22"
    assert manifest["$schema"].endswith("/v1.22/MicrosoftTeams.schema.json")
    assert manifest["validDomains"] == ["support.example.org"]
    assert manifest["developer"]["privacyUrl"] == "https://support.example.org/privacy"
    [bot] = manifest["bots"]
    assert bot["botId"] == CLIENT
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert titles == [
        "support",
        "home",
        "away",
        "suggest",
        "assign",
        "visit",
        "visit-assign",
        "audit",
        "help",
    ]
    assert all(len(c["description"]) <= 128 for c in bot["commandLists"][0]["commands"])
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == CLIENT
    assert extension["commands"][0]["type"] == "action" and extension["commands"][0]["fetchTask"]
    assert manifest["webApplicationInfo"]["id"] == CLIENT
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert uuid.UUID(manifest["id"]).version == 5
    assert manifest["version"].count(".") == 2

    assert png_size(colour) == (192, 192)
    assert png_size(outline) == (32, 32)
    outline_pixels = rgba_pixels(outline)
    assert set(outline_pixels) == {(255, 255, 255, 255), (0, 0, 0, 0)}  # white or transparent
    colour_pixels = rgba_pixels(colour)
    assert colour_pixels[0] == (0x1F, 0x5C, 0x99, 255)  # a full-colour background
    assert (255, 255, 255, 255) in colour_pixels  # and the glyph on it


def test_the_app_id_is_stable_for_a_bot_and_differs_between_bots() -> None:
    def app_id(client: str) -> str:
        with zipfile.ZipFile(io.BytesIO(teams_package(client, "https://h.org"))) as z:
            return str(json.loads(z.read("manifest.json"))["id"])

    assert app_id(CLIENT) == app_id(CLIENT)
    assert app_id(CLIENT) != app_id("99999999-2222-4333-8444-555555555555")


@pytest.mark.parametrize("url", ["http://support.example.org", "support.example.org", "https://"])
def test_an_address_that_is_not_https_is_refused_in_one_line(tmp_path: Path, url: str) -> None:
    result = cli(tmp_path, "--url", url, env=TEAMS_ENV)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "https://" in result.stderr
    assert not list(tmp_path.iterdir())


def test_without_a_teams_client_id_it_is_refused_in_one_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "--url", "https://support.example.org", env={})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "TEAMS_CLIENT_ID" in result.stderr
    with pytest.raises(ManifestError):
        teams_package("", "https://support.example.org")
