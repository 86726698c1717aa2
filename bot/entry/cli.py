"""`python -m bot …`: the command-line interface of CONTRACT.md.

Every command exits 0 on success and non-zero with a one-line reason on stderr otherwise.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bot.core.logs import configure_logging
from bot.core.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.entry.runtime import Runtime
    from bot.insight.service import Headline, Period

log = logging.getLogger("bot")


class CommandError(Exception):
    """A problem the user can fix; printed as one line on stderr."""


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is one line on stderr (exit 2), as every
    other error is, pointing to `--help` rather than printing the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            2, f"error: {self.prog}: {message} (see `{self.prog} --help` for how to use it)\n"
        )


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _require_slack_token(settings: Settings, command: str, why: str) -> None:
    """Refuse, before touching the database or Slack, a command that needs the bot token
    (unless the bot talks only to Teams, whose credentials the settings already checked)."""
    if not settings.slack_bot_token and "slack" in settings.platforms:
        raise CommandError(
            f"SLACK_BOT_TOKEN is not set (the bot token, xoxb-…); `{command}` {why}, "
            "so nothing was run"
        )


# --- commands --------------------------------------------------------------------------------
def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Run the bot: Socket Mode if SLACK_APP_TOKEN is set, else HTTP on PORT (Slack's
    `/slack/events` and, with the Teams settings, Teams' `/api/messages`)."""
    from bot.entry.serve import serve

    missing = settings.missing_to_serve()
    if missing:
        raise CommandError("cannot start: " + "; ".join(missing))
    serve(settings)
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    from bot.entry.runtime import prepare_database
    from storage.db import make_engine

    prepare_database(make_engine(settings.database_url))
    print("Database schema is up to date.")
    return 0


def cmd_manifest(settings: Settings, args: argparse.Namespace) -> int:
    """Print the Slack app manifest for this deployment."""
    from handlers.slack.manifest import render_manifest

    url = args.url or settings.public_url
    if url and not url.startswith("https://"):
        raise CommandError(
            f"Slack sends requests only to https:// addresses; --url (or PUBLIC_URL) must "
            f"start with https://, not {url!r}"
        )
    socket_mode = args.socket_mode or (settings.socket_mode and not args.url)
    sys.stdout.write(render_manifest(url, socket_mode=socket_mode))
    return 0


def cmd_teams_manifest(settings: Settings, args: argparse.Namespace) -> int:
    """Write the Teams app package (manifest.json and the two icons) to --out."""
    from bot.entry.teams_manifest import ManifestError, teams_package

    try:
        package = teams_package(settings.teams_client_id or "", args.url)
    except ManifestError as exc:
        raise CommandError(str(exc)) from None
    try:
        with open(args.out, "wb") as out:
            out.write(package)
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"Wrote {args.out}: upload it in the Teams admin centre (Teams apps → Manage apps).")
    return 0


def cmd_jobs_run_due(settings: Settings, args: argparse.Namespace) -> int:
    """Run everything due at --now (default: the real now) once."""
    from bot.core.clock import FixedClock, SystemClock
    from bot.entry.jobs import run_due
    from bot.entry.runtime import build_runtime

    clock = FixedClock(_parse_instant(args.now)) if args.now else SystemClock()
    _require_slack_token(settings, "jobs run-due", "sends the messages that fall due")
    runtime = build_runtime(settings, clock=clock)
    results = run_due(runtime)
    print(", ".join(f"{name}: {count}" for name, count in results.items()))
    failed = [name for name, count in results.items() if count < 0]
    if failed:
        raise CommandError(
            f"{', '.join(failed)} failed (logged above); the rest ran, and the next run tries again"
        )
    return 0


def cmd_requests_list(settings: Settings, args: argparse.Namespace) -> int:
    """List requests with status, school, tags, offers and the assigned supporter."""
    from bot.entry.runtime import build_runtime
    from bot.requests.report import list_requests
    from storage.db import read_only

    runtime = build_runtime(settings)
    with read_only(runtime.sessions) as session:
        rows = list_requests(session, status=args.status)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("No requests" + (f" with status {args.status}." if args.status else "."))
        return 0
    for row in rows:
        offers = ", ".join(f"{o['supporter']} ({o['status']})" for o in row["offers"]) or "none"
        print(
            f"#{row['id']} [{row['status']}] {row['school'] or 'school not set'} — "
            f"{', '.join(row['tags']) or 'no tags yet'}; requested by {row['requester']}; "
            f"offers: {offers}; assigned to: {row['assigned_to'] or 'nobody yet'}"
        )
    return 0


def cmd_directory_import(settings: Settings, args: argparse.Namespace) -> int:
    """Add or update people from a directory CSV (or with --dry-run, say what would change
    and save nothing); report every row."""
    from bot.directory.service import DirectoryError, import_directory_file
    from bot.entry.runtime import build_runtime

    runtime = build_runtime(settings)
    try:
        report = import_directory_file(
            runtime.sessions,
            args.file,
            now=runtime.clock.now(),
            dry_run=args.dry_run,
            tz=settings.tz,
        )
    except DirectoryError as exc:
        raise CommandError(str(exc)) from None
    print(report.render())
    if not report.ok:
        raise CommandError(_rejected_rows(len(report.rejected), dry_run=args.dry_run))
    return 0


def _rejected_rows(count: int, *, dry_run: bool) -> str:
    """The one line that says why an import with rejected rows exits non-zero."""
    rows = f"{count} row{'' if count == 1 else 's'}"
    if dry_run:
        return f"{rows} would be rejected (listed above); nothing was saved"
    verb = "was" if count == 1 else "were"
    return f"{rows} {verb} rejected (listed above); the other rows were saved"


def cmd_directory_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write the directory back out in the import format."""
    from bot.directory.service import DirectoryError, export_directory
    from bot.entry.runtime import build_runtime
    from storage.db import read_only

    runtime = build_runtime(settings)
    with read_only(runtime.sessions) as session:
        try:
            if args.file:
                with open(args.file, "w", newline="", encoding="utf-8") as stream:
                    count = export_directory(session, stream)
                print(f"Exported {count} people to {args.file}.")
            else:
                export_directory(session, sys.stdout)
        except DirectoryError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            where = args.file or "standard output"
            raise CommandError(f"cannot write {where}: {exc.strerror or exc}") from None
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Print the audit trail (of one request, one person, or everything): one line each."""
    from bot.core.audit_trail import audit_trail
    from bot.entry.runtime import build_runtime
    from storage.db import read_only
    from storage.models import SupportRequest

    request_id = _audit_request_id(args.request)
    person = _audit_person(args.person)
    runtime = build_runtime(settings)
    with read_only(runtime.sessions) as session:
        if request_id is not None and session.get(SupportRequest, request_id) is None:
            raise CommandError(f"there is no request #{request_id}")
        lines = audit_trail(session, request_id=request_id, slack_user_id=person)
    if args.json:
        print(json.dumps([line.as_json(settings.tz) for line in lines], indent=2))
        return 0
    if not lines:
        print("No audit entries.")
    for line in lines:
        print(
            f"{line.local_time(settings.tz)}  {line.subject_type} {line.subject_id}  "
            f"{line.actor or 'the bot'}  {line.words}"
        )
    return 0


def _audit_request_id(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"#?[0-9]{1,11}", raw.strip()):
        raise CommandError(f"--request must be a request number like 12, not {raw!r}")
    return int(raw.strip().lstrip("#"))


def _audit_person(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not re.fullmatch(r"[UW][A-Z0-9]{2,}", raw.strip()):
        raise CommandError(f"--person must be a Slack user id like U0123ABCD, not {raw!r}")
    return raw.strip()


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Play the life of a request against a local stand-in for Slack."""
    from bot.entry.demo import run_demo

    if settings.log_level != "DEBUG":  # keep the transcript readable
        logging.getLogger().setLevel(logging.WARNING)
    return run_demo(sys.stdout)


def cmd_digest(settings: Settings, args: argparse.Namespace) -> int:
    """Build and send (or with --dry-run, print) the weekly digest for the week of --week.

    A week's digest is sent at most once: asking again prints when it went and exits 0.
    """
    from bot.core.clock import date_words, when_in_year
    from bot.digest.service import (
        current_week_start,
        preview_digest,
        send_weekly_digest,
        week_start_of,
    )
    from bot.entry.runtime import build_runtime
    from handlers.slack.blocks.render import view_as_text

    if not args.dry_run:
        _require_slack_token(settings, "digest", "sends it through Slack (--dry-run prints it)")
    runtime = build_runtime(settings)
    ctx = runtime.context()
    this_week = current_week_start(ctx)
    week = week_start_of(parse_week(args.week)) if args.week else this_week
    if args.dry_run:
        sys.stdout.write(
            preview_digest(runtime.sessions, ctx, week_start=week, as_text=view_as_text)
        )
        return 0
    if week > this_week:
        raise CommandError(
            f"the week of {date_words(week)} hasn't started yet; use --dry-run to preview it"
        )
    outcome = send_weekly_digest(runtime.sessions, ctx, week_start=week)
    if not outcome.sent:
        when = f" on {when_in_year(outcome.sent_at, settings.tz)}" if outcome.sent_at else ""
        print(
            f"The digest for the week of {date_words(week)} was already sent{when}; "
            "a week's digest is sent only once, so nothing was sent."
        )
        return 0
    report = runtime.deliverer.drain()
    print(
        f"Sent the digest for the week of {date_words(week)}: "
        f"{outcome.coordinator_messages} to coordinators and "
        f"{outcome.personal_messages} personal digest(s); {report.sent} message(s) delivered."
    )
    if report.failed or report.retried:
        print(
            f"{report.failed} failed and {report.retried} will be retried by the running bot "
            "(they stay owed in the database)."
        )
    return 0


def cmd_privacy_export(settings: Settings, args: argparse.Namespace) -> int:
    """Print everything held about a person (Slack or Teams user id) as JSON."""
    from bot.entry.runtime import build_runtime
    from bot.privacy.service import export_person
    from handlers.slack.blocks.render import slack_payload
    from storage.db import read_only

    runtime = build_runtime(settings)
    with read_only(runtime.sessions) as session:
        data = export_person(session, args.user, as_sent=slack_payload, tz=settings.tz)
    if data is None:
        raise CommandError(f"nobody with Slack or Teams user id {args.user} is in the directory")
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def cmd_privacy_erase(settings: Settings, args: argparse.Namespace) -> int:
    """Erase a person's personal data, keeping ids for the audit; print what was done."""
    from bot.entry.runtime import build_runtime
    from bot.privacy.service import erase_person
    from storage.db import transaction

    runtime = build_runtime(settings)
    with transaction(runtime.sessions) as session:
        report = erase_person(session, runtime.context(), args.user)
    if report is None:
        raise CommandError(f"nobody with Slack or Teams user id {args.user} is in the directory")
    if settings.slack_bot_token:  # else the running bot delivers what was owed
        runtime.deliverer.drain()
    print(report.summary(settings.tz))
    return 0


def cmd_deployments_export(settings: Settings, args: argparse.Namespace) -> int:
    """Print one record per deployment running between --from and --to, as CSV or JSON."""
    from bot.deployments.record import export_records, records_between
    from bot.entry.runtime import build_runtime
    from storage.db import read_only

    start = parse_date(args.start, "--from") if args.start else None
    end = parse_date(args.end, "--to") if args.end else None
    if start and end and end < start:
        raise CommandError("--to must not be before --from")
    runtime = build_runtime(settings)
    with read_only(runtime.sessions) as session:
        records = records_between(session, settings.tz, start=start, end=end)
    sys.stdout.write(export_records(records, args.format))
    return 0


def cmd_deployments_summary(settings: Settings, args: argparse.Namespace) -> int:
    """Write the one-page HTML summary of deployment N to --out (default: stdout)."""
    from bot.core.clock import SystemClock
    from bot.deployments.html import summary_html
    from bot.deployments.record import deployment_record
    from bot.entry.runtime import build_runtime
    from storage.db import read_only

    runtime = build_runtime(settings)
    with read_only(runtime.sessions) as session:
        try:
            record = deployment_record(session, args.deployment, settings.tz)
        except LookupError:
            raise CommandError(f"there is no deployment {args.deployment}") from None
    page = summary_html(record, generated=SystemClock().now().astimezone(settings.tz))
    if args.out:
        Path(args.out).write_text(page, encoding="utf-8")
        print(f"Wrote {args.out}")
    else:
        sys.stdout.write(page)
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    """Write the supply-and-demand figures and charts for a term or dates into --out."""
    from bot.core.clock import SystemClock
    from bot.entry.runtime import build_runtime
    from bot.insight.service import headline_lines

    period = report_period(args, SystemClock().now().astimezone(settings.tz).date())
    runtime = build_runtime(settings)
    written, headline = write_report(runtime, period, args.format, Path(args.out))
    for path in written:
        print(f"Wrote {path}")
    print(f"{headline.period_label}: " + " ".join(headline_lines(headline)))
    for gap in headline.gaps:
        print(f"Gap: {gap}")
    return 0


def report_period(args: argparse.Namespace, today: date) -> Period:
    """The period asked for: --term, or --from (and --to, default today), else this term."""
    from bot.insight.service import InsightError, parse_term, period_between, term_of

    try:
        if args.term and (args.start or args.end):
            raise InsightError("give either --term or --from/--to, not both")
        if args.term:
            return parse_term(args.term)
        if args.end and not args.start:
            raise InsightError("--to needs --from as well")
        if args.start:
            first = parse_date(args.start, "--from")
            return period_between(first, parse_date(args.end, "--to") if args.end else today)
    except InsightError as exc:
        raise CommandError(str(exc)) from None
    return term_of(today)


def write_report(
    runtime: Runtime, period: Period, fmt: str, out: Path
) -> tuple[list[Path], Headline]:
    """Compute the figures, write them as PNG charts, CSV tables or one JSON file, and return
    the files written and the headline figures."""
    from bot.insight.service import build_insight, headline_of, insight_as_dict, insight_tables
    from storage.db import read_only

    with read_only(runtime.sessions) as session:
        insight = build_insight(session, runtime.calendar, period, now=runtime.clock.now())
    files: dict[str, bytes] = {}
    if fmt == "png":
        from bot.insight.charts import render_charts

        files = render_charts(insight)
    elif fmt == "csv":
        for name, rows in insight_tables(insight).items():
            buffer = io.StringIO(newline="")
            csv.writer(buffer).writerows(rows)
            files[name] = buffer.getvalue().encode("utf-8")
    else:
        files["report.json"] = json.dumps(insight_as_dict(insight), indent=2).encode("utf-8")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_bytes(content)
    except OSError as exc:
        raise CommandError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return [out / name for name in files], headline_of(insight)


# --- parsing ---------------------------------------------------------------------------------
def parse_date(raw: str, option: str) -> date:
    """Parse a YYYY-MM-DD option value."""
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"{option} must be a date like 2026-11-23, not {raw!r}") from exc


def _parse_instant(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(
            f"--now must be an ISO-8601 time like 2026-11-23T09:30, not {raw!r}"
        ) from exc
    if value.tzinfo is None:
        raise CommandError("--now needs a time zone, e.g. 2026-11-23T09:30:00+00:00 or …Z")
    return value.astimezone(UTC)


def parse_week(raw: str) -> date:
    """Parse `--week YYYY-MM-DD`."""
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--week must be a date like 2026-11-23, not {raw!r}") from exc


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command of CONTRACT.md."""
    parser = _OneLineParser(
        prog="python -m bot", description="school-support-bot: school-to-school support in Slack"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("serve", help="run the bot (the default)").set_defaults(run=cmd_serve)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        run=cmd_migrate
    )

    _add_data_commands(sub)
    jobs = sub.add_parser("jobs", help="run scheduled work")
    jobs_sub = jobs.add_subparsers(dest="action", metavar="ACTION", required=True)
    due = jobs_sub.add_parser("run-due", help="run everything due now, once")
    due.add_argument("--now", help="ISO-8601 instant to run as of (default: now)")
    due.set_defaults(run=cmd_jobs_run_due)

    _add_digest_and_privacy_commands(sub)
    sub.add_parser("demo", help="see the bot work without Slack").set_defaults(run=cmd_demo)

    _add_report_command(sub)
    _add_deployments_command(sub)
    manifest = sub.add_parser("manifest", help="print the Slack app manifest")
    manifest.add_argument("--url", help="public base URL, e.g. https://support.example.org")
    manifest.add_argument("--socket-mode", action="store_true", help="for Socket Mode")
    manifest.set_defaults(run=cmd_manifest)
    teams = sub.add_parser("teams-manifest", help="write the Teams app package (a zip)")
    teams.add_argument(
        "--url", required=True, help="public https URL, e.g. https://support.example.org"
    )
    teams.add_argument(
        "--out", default="school-support-teams.zip", help="zip to write (default: %(default)s)"
    )
    teams.set_defaults(run=cmd_teams_manifest)
    return parser


_Commands = argparse._SubParsersAction  # argparse's (private) type of `add_subparsers()`


def _add_data_commands(sub: _Commands) -> None:
    """`directory import|export` and `requests list`."""
    directory = sub.add_parser("directory", help="import or export the directory CSV")
    directory_sub = directory.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = directory_sub.add_parser("import", help="add or update people from a CSV file")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would change; save nothing"
    )
    imp.set_defaults(run=cmd_directory_import)
    exp = directory_sub.add_parser("export", help="write the directory as CSV")
    exp.add_argument("file", nargs="?", metavar="FILE.csv")
    exp.set_defaults(run=cmd_directory_export)

    audit = sub.add_parser("audit", help="the audit trail: who did what, when")
    audit.add_argument("--request", metavar="N", help="only this request (and its offers…)")
    audit.add_argument("--person", metavar="USER", help="only what this Slack user did or had done")
    audit.add_argument("--json", action="store_true", help="print a JSON array")
    audit.set_defaults(run=cmd_audit)

    requests = sub.add_parser("requests", help="list support requests")
    requests_sub = requests.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = requests_sub.add_parser("list", help="list requests")
    listing.add_argument("--status", choices=_statuses())
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    listing.set_defaults(run=cmd_requests_list)


def _add_digest_and_privacy_commands(sub: _Commands) -> None:
    """`digest` and `privacy export|erase`."""
    digest = sub.add_parser(
        "digest",
        help="build and send the weekly digest (at most once a week)",
        description="Build and send the weekly digest for the week (Monday to Sunday) containing "
        "--week. A week's digest is sent at most once: asking again says when it went and "
        "exits 0.",
    )
    digest.add_argument("--week", help="any date in the week, YYYY-MM-DD (default: this week)")
    digest.add_argument(
        "--dry-run", action="store_true", help="print it as text without sending or recording it"
    )
    digest.set_defaults(run=cmd_digest)

    privacy = sub.add_parser("privacy", help="subject access and erasure")
    privacy_sub = privacy.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, run, what in (
        ("export", cmd_privacy_export, "print everything held about a person as JSON"),
        ("erase", cmd_privacy_erase, "erase a person's personal data, keeping ids"),
    ):
        p = privacy_sub.add_parser(name, help=what)
        p.add_argument(
            "user",
            metavar="USER",
            help="Slack user id (e.g. U0123ABCD) or Teams user id (Entra object id)",
        )
        p.set_defaults(run=run)


def _add_report_command(sub: _Commands) -> None:
    """`report`: the supply-and-demand figures."""
    report = sub.add_parser(
        "report",
        help="supply and demand: time to acceptance, unmet demand, capacity; charts as PNG",
        description="Write the supply-and-demand figures for a term (default: this one) or "
        "dates: PNG charts, CSV tables or one JSON file. Counts and ids only.",
    )
    report.add_argument("--term", help="a term and year, e.g. autumn-2026, spring-2027")
    report.add_argument("--from", dest="start", metavar="D", help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="end", metavar="D", help="last day (default: today)")
    report.add_argument("--format", choices=("png", "csv", "json"), default="png")
    report.add_argument("--out", default="report", metavar="DIR", help="default: ./report")
    report.set_defaults(run=cmd_report)


def _add_deployments_command(sub: _Commands) -> None:
    """`deployments export|summary`: the deployment record."""
    deployments = sub.add_parser("deployments", help="the deployment record: export, summary")
    deployments_sub = deployments.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = deployments_sub.add_parser(
        "export",
        help="one record per deployment: request, people, agreement, days, review, impact",
        description="Print one record per deployment running at some point between --from and "
        "--to (default: all of them), as CSV (one row each) or JSON.",
    )
    export.add_argument("--from", dest="start", metavar="D", help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", metavar="D", help="last day, YYYY-MM-DD")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.set_defaults(run=cmd_deployments_export)
    summary = deployments_sub.add_parser(
        "summary", help="the one-page printable HTML summary of one deployment"
    )
    summary.add_argument("deployment", type=int, metavar="N", help="the deployment's id")
    summary.add_argument("--out", metavar="FILE", help="write it here (default: stdout)")
    summary.set_defaults(run=cmd_deployments_summary)


# CONTRACT.md's request statuses, spelled out here so that `--help` and argument errors
# never import the database layer (SQLAlchemy and the models take most of a second); a test
# keeps this equal to storage.models.REQUEST_STATUSES.
REQUEST_STATUSES = ("open", "offered", "accepted", "closed", "cancelled", "expired")


def _statuses() -> Sequence[str]:
    return REQUEST_STATUSES


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, load settings, run one command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", cmd_serve)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        return run(settings, args)
    except CommandError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the user, the trace in the log
        log.debug("command failed", exc_info=True)
        return _fail(f"{type(exc).__name__}: {exc}".splitlines()[0])
