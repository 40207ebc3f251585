"""`mes rejections replay`: replay refused ingest events against today's master data."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from domain.errors import ErrorCode
from graphql_api.cli_common import database_url_option, prepare, settings_for

SINCE_FORMS = (
    "an ISO date (2026-12-01) or time (2026-12-01T06:00, 2026-12-01T06:00:00+01:00), "
    "today, yesterday, or hours or days ago (24h, 7d); without an offset, in MES_PLANT_TZ"
)
_AGO = re.compile(r"(\d{1,6})([hd])")


def parse_since(text: str, plant_tz: str, now: datetime) -> datetime:
    """The instant `--since` names (`now` is aware); ValueError naming the accepted forms."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(plant_tz)
    word = text.strip().lower()
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    if word == "today":
        return midnight
    if word == "yesterday":
        # a calendar day back, at its own midnight (a DST change makes that day 23 or 25 h)
        return (midnight.replace(tzinfo=None) - timedelta(days=1)).replace(tzinfo=tz)
    ago = _AGO.fullmatch(word)
    if ago:
        n, unit = int(ago.group(1)), ago.group(2)
        return now - (timedelta(hours=n) if unit == "h" else timedelta(days=n))
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time; use {SINCE_FORMS}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=tz)


def error_code(value: str | None) -> ErrorCode | None:
    """`--code`, in any case; an unknown one is a usage error listing the valid codes."""
    if value is None:
        return None
    try:
        return ErrorCode(value.strip().upper())
    except ValueError:
        valid = ", ".join(c.value for c in ErrorCode)
        raise click.BadParameter(f"{value!r} is not an error code; valid: {valid}") from None


@click.group()
def rejections() -> None:
    """Work with refused ingest events."""


@rejections.command("replay")
@click.option(
    "--code",
    default=None,
    callback=lambda _ctx, _param, value: error_code(value),
    metavar="CODE",
    help="Only rejections with this error code (UNIT_NOT_FOUND, STATION_NOT_FOUND, …).",
)
@click.option("--source", default=None, help="Only rejections from this sourceSystem.")
@click.option(
    "--since",
    default=None,
    help=f"Only rejections received at or after this: {SINCE_FORMS}.",
)
@database_url_option
def replay_rejections(
    code: ErrorCode | None, source: str | None, since: str | None, database_url: str | None
) -> None:
    """Replay matching unresolved rejections against today's master data; print a summary."""
    plant_tz = settings_for(database_url).plant_tz
    try:
        since_at = parse_since(since, plant_tz, datetime.now(UTC)) if since else None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--since'") from err
    settings = prepare(database_url)

    from domain.actors import Actor
    from domain.ports import RejectionFilter
    from graphql_api.bootstrap import bootstrap

    where = RejectionFilter(
        source_system=source,
        code=code,
        unresolved_only=True,
        received_from=since_at,
    )

    async def run() -> Counter[str]:
        services = bootstrap(settings)
        summary: Counter[str] = Counter()
        try:
            ids: list[int] = []
            after: Any = None
            while True:
                page, more = await services.store.rejections_page(where, 500, after)
                ids += [j.id for j in page if j.id is not None and j.replayable]
                if not more or not page:
                    break
                after = (page[-1].received_at, page[-1].id or 0)
            actor = Actor(name="cli", request_id="mes-rejections-replay")
            with click.progressbar(ids, label="replaying", show_pos=True) as bar:
                for rejection_id in bar:
                    outcome = await services.ingest.replay(rejection_id, actor)
                    if outcome.error is None:
                        summary[outcome.status.value] += 1
                    else:
                        summary[f"still refused: {outcome.error.code.value}"] += 1
        finally:
            await services.close()
        return summary

    summary = asyncio.run(run())
    if not summary:
        click.echo("no unresolved, replayable rejection matched")
    for what, n in sorted(summary.items()):
        click.echo(f"{what}: {n}")
