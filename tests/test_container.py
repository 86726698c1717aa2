"""The container files: the Dockerfile passes hadolint and runs the installed project as a
non-root user with a health check; compose brings up PostgreSQL, migrates once, then the bot.

No Docker engine runs in CI, so these read the files rather than build them.
"""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_hadolint_finds_nothing_to_fix() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(hadolint).exists(), "hadolint is a dev dependency: run `make install`"
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_is_slim_installs_the_project_and_runs_as_non_root() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = [args for keyword, args in steps if keyword == "RUN"]
    assert any(re.search(r"pip install --no-cache-dir \.(\s|$)", run) for run in runs)
    users = [args for keyword, args in steps if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (keyword, _) in enumerate(steps) if keyword == "USER")
    assert [k for k, _ in steps[last_user:]].count("RUN") == 0  # nothing runs as root after


def test_the_server_imports_the_installed_compiled_project_not_a_copy_of_its_source() -> None:
    """pip compiles what it installs. The server's working directory comes first on sys.path
    (uvicorn puts it there), so a copy of the source in it would be imported instead and, with
    PYTHONDONTWRITEBYTECODE set and no right to write there, compiled again at every start."""
    steps = dockerfile()
    workdir, copies = "/", []
    for keyword, args in steps:
        if keyword == "WORKDIR":
            workdir = posixpath.join(workdir, args)
        elif keyword == "COPY":
            *sources, target = args.split()
            if set(sources) & {"bot", "handlers", "storage"}:
                copies.append(posixpath.normpath(posixpath.join(workdir, target)))
    assert len(copies) == 3
    for copy in copies:
        assert posixpath.commonpath([copy, workdir]) != workdir, f"{copy} shadows the package"
    installs = [args for keyword, args in steps if keyword == "RUN" and "pip install" in args]
    assert installs and not any("--no-compile" in run for run in installs)


def test_the_health_check_asks_healthz_without_curl() -> None:
    [check] = [args for keyword, args in dockerfile() if keyword == "HEALTHCHECK"]
    command = json.loads(check.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"] and "/healthz" in command[2]
    assert "curl" not in check


def test_compose_migrates_once_before_the_bot_starts() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "bot"}
    assert "pg_isready" in str(services["db"]["healthcheck"]["test"])
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["python", "-m", "bot", "migrate"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert bot["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert bot["depends_on"]["db"] == {"condition": "service_healthy"}
    for service in (migrate, bot):
        assert service["build"] == "."
        assert service["env_file"] == [{"path": ".env", "required": False}]
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@db:5432/" in service["environment"]["DATABASE_URL"]


def test_secrets_and_local_files_stay_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for entry in (".env", ".venv", ".git", "data/", "tests/"):
        assert entry in ignored
