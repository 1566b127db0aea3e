"""``motcua setup-prefect``: what motcua's deployments need on a Prefect server, created
once (idempotent): the global concurrency limit that serialises warehouse writes, the
process work pool of prefect.yaml and, with ``--notify-block``, the automations that
notify the operator when a nightly run fails, crashes, times out or is late."""

from __future__ import annotations

import datetime as dt
import re
import sys

import click

WRITE_LIMIT = "motcua-warehouse-writes"  # = warehouse.locks.WRITE_LOCK_NAME (kept import-free for --help)
WORK_POOL = "motcua-pool"

NIGHTLY_FLOW = "nightly"  # @flow(name=...) of flows/nightly.py: automations match flow runs by the flow's name
NIGHTLY_SCHEDULE = dt.time(1, 30)  # prefect.yaml's nightly cron "30 1 * * *", Asia/Ho_Chi_Minh (a test holds it)
DEFAULT_DEADLINE = "06:00"  # local time by which the nightly should have completed
FAILED_AUTOMATION = "motcua-nightly-failed"
LATE_AUTOMATION = "motcua-nightly-late"
FAILED_STATES = ("Failed", "Crashed", "TimedOut")  # TimedOut: a Failed state, named so by a flow's timeout_seconds
FINAL_STATES = ("Completed", "Cancelled", *FAILED_STATES)  # a run that reached one is not late (a failure has its own alert)

_RUN = "{{ flow.name }}/{{ flow_run.name }}"
_STATE = ("{{ flow_run.state.name }} at {{ flow_run.state.timestamp }}: "
          "{{ flow_run.state.message or '(no message)' }}")
FAILED_SUBJECT = f"motcua: flow run {_RUN} is {{{{ flow_run.state.name }}}}"
FAILED_BODY = (f"The flow run {_RUN} (id {{{{ flow_run.id }}}}) ended {_STATE}\n"
               "Its logs: {{ flow_run|ui_url }}\n"
               "The next nightly run heals what this one left (docs/prefect.md); "
               "find out why it failed before then.")
LATE_SUBJECT = f"motcua: flow run {_RUN} has not completed by {{deadline}} (Asia/Ho_Chi_Minh)"
LATE_BODY = (f"The flow run {_RUN} (id {{{{ flow_run.id }}}}) started more than {{hours}} ago and has not "
             "reached a final state (Completed, Failed, Crashed, Cancelled).\n"
             "Its logs: {{ flow_run|ui_url }}\n"
             "Is it waiting for the warehouse (`prefect gcl inspect motcua-warehouse-writes`) or stuck reading the source?")


def deadline_hours(deadline: str, schedule: dt.time = NIGHTLY_SCHEDULE) -> dt.timedelta:
    """How long after the nightly starts (at ``schedule``, local time) ``deadline``
    (``HH:MM``, the same local time zone) comes: ``06:00`` -> 4 h 30 min. A deadline at
    or before the schedule is the next day's."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", deadline.strip())
    if not match:
        raise ValueError(f"--nightly-deadline {deadline!r} is not a local time HH:MM (e.g. 06:00)")
    minutes = int(match[1]) * 60 + int(match[2]) - (schedule.hour * 60 + schedule.minute)
    return dt.timedelta(minutes=minutes if minutes > 0 else minutes + 24 * 60)


def _fmt_hours(delta: dt.timedelta) -> str:
    hours, minutes = divmod(int(delta.total_seconds()) // 60, 60)
    return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"


def nightly_automations(block_document_id, deadline: str = DEFAULT_DEADLINE) -> list:
    """The two automations of the nightly flow, notifying through the notification block
    ``block_document_id``: ``motcua-nightly-failed`` (reactive: a nightly flow run
    entered Failed, Crashed or TimedOut) and ``motcua-nightly-late`` (proactive: a
    nightly flow run that went Pending or Running has reached no final state within the
    time from 01:30 to ``deadline``; a failed run is told by the first, not again)."""
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    within = deadline_hours(deadline)
    related = {"prefect.resource.role": "flow", "prefect.resource.name": NIGHTLY_FLOW}
    failed = AutomationCore(
        name=FAILED_AUTOMATION,
        description=f"motcua (setup-prefect): a {NIGHTLY_FLOW!r} flow run failed, crashed or timed out.",
        tags=["motcua"],
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"}, match_related=related,
            expect={f"prefect.flow-run.{state}" for state in FAILED_STATES},
            posture=Posture.Reactive, threshold=1, within=dt.timedelta(0)),
        actions=[SendNotification(block_document_id=block_document_id, subject=FAILED_SUBJECT, body=FAILED_BODY)])
    late = AutomationCore(
        name=LATE_AUTOMATION,
        description=(f"motcua (setup-prefect): a {NIGHTLY_FLOW!r} flow run not Completed {_fmt_hours(within)} "
                     f"after it went Pending/Running (01:30 -> {deadline} Asia/Ho_Chi_Minh)."),
        tags=["motcua"],
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"}, match_related=related,
            after={"prefect.flow-run.Pending", "prefect.flow-run.Running"},
            expect={f"prefect.flow-run.{state}" for state in FINAL_STATES}, for_each={"prefect.resource.id"},
            posture=Posture.Proactive, threshold=1, within=within),
        actions=[SendNotification(
            block_document_id=block_document_id,
            subject=LATE_SUBJECT.replace("{deadline}", deadline),
            body=LATE_BODY.replace("{hours}", _fmt_hours(within)))])
    return [failed, late]


class NotifyBlockError(Exception):
    """The --notify-block named no notification block of the server."""


def read_notify_block(client, slug: str):
    """The block document ``<block-type-slug>/<name>`` (e.g. ``custom-webhook/oncall``)."""
    from prefect.exceptions import ObjectNotFound

    type_slug, sep, name = slug.partition("/")
    if not sep or not type_slug or not name or "/" in name:
        raise NotifyBlockError(f"--notify-block {slug!r} is not <block-type-slug>/<name>, e.g. custom-webhook/oncall")
    try:
        document = client.read_block_document_by_name(name, type_slug, include_secrets=False)
    except ObjectNotFound:
        raise NotifyBlockError(
            f"notification block {slug!r} not found: create it first (UI: Blocks -> +, or e.g. "
            f"`CustomWebhookNotificationBlock(name=..., url=...).save({name!r})`; `prefect block ls` lists them)"
        ) from None
    capabilities = document.block_schema.capabilities if document.block_schema else []
    if "notify" not in capabilities:
        raise NotifyBlockError(f"block {slug!r} is not a notification block (it cannot notify)")
    return document


def ensure_automations(client, automations: list) -> list[str]:
    """Create each automation, or update the one of that name (and delete any duplicates
    of it), so that running this again leaves exactly one of each."""
    done = []
    for automation in automations:
        existing = client.read_automations_by_name(automation.name)
        if not existing:
            client.create_automation(automation)
            done.append(f"created automation {automation.name!r}")
            continue
        keep, *extra = existing
        client.update_automation(keep.id, automation)
        for duplicate in extra:
            client.delete_automation(duplicate.id)
        done.append(f"updated automation {automation.name!r}"
                    + (f" (deleted {len(extra)} duplicate(s))" if extra else ""))
    return done


def ensure_prefect_setup(limit_name: str = WRITE_LIMIT, pool: str | None = WORK_POOL,
                         notify_block: str | None = None, deadline: str = DEFAULT_DEADLINE) -> list[str]:
    """Create the limit (1 slot) and the process work pool on the configured Prefect API
    if they are missing; correct a limit whose size is not 1; with ``notify_block``
    (``<block-type-slug>/<name>``), create or update the nightly's automations notifying
    through it. Returns what was done. Raises NotifyBlockError when the block is missing
    (before changing anything)."""
    from prefect import get_client
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
        WorkPoolCreate,
    )
    from prefect.exceptions import ObjectNotFound

    done: list[str] = []
    with get_client(sync_client=True) as client:
        block = read_notify_block(client, notify_block) if notify_block else None
        try:
            limit = client.read_global_concurrency_limit_by_name(limit_name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=limit_name, limit=1))
            done.append(f"created global concurrency limit {limit_name!r} (1 slot)")
        else:
            if limit.limit != 1 or not limit.active:
                client.update_global_concurrency_limit(
                    limit_name, GlobalConcurrencyLimitUpdate(limit=1, active=True))
                done.append(f"set global concurrency limit {limit_name!r} to 1 active slot")
            else:
                done.append(f"global concurrency limit {limit_name!r} already there (1 slot)")
        if pool:
            try:
                client.read_work_pool(pool)
                done.append(f"work pool {pool!r} already there")
            except ObjectNotFound:
                from prefect.workers.process import ProcessWorker

                client.create_work_pool(WorkPoolCreate(
                    name=pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template(),
                    description="motcua: nightly, backfill and annual_report flow runs (see prefect.yaml)"))
                done.append(f"created process work pool {pool!r}")
        if block is not None:
            done += [f"{line}, notifying through {notify_block!r}"
                     for line in ensure_automations(client, nightly_automations(block.id, deadline))]
    return done


@click.command("setup-prefect")
@click.option("--limit-name", default=WRITE_LIMIT, show_default=True,
              help="Name of the global concurrency limit the flows take (strict) before writing to the warehouse.")
@click.option("--pool", default=WORK_POOL, show_default=True,
              help="Name of the process work pool prefect.yaml's deployments run on.")
@click.option("--no-pool", is_flag=True, help="Only create the concurrency limit.")
@click.option("--notify-block", metavar="SLUG",
              help="A notification block you created on the server, as <block-type-slug>/<name> "
                   "(e.g. custom-webhook/oncall, email/oncall): create or update the automations "
                   f"{FAILED_AUTOMATION!r} and {LATE_AUTOMATION!r}, which notify through it.")
@click.option("--nightly-deadline", default=DEFAULT_DEADLINE, show_default=True, metavar="HH:MM",
              help="Local time (Asia/Ho_Chi_Minh) by which the nightly run (01:30) should have completed; "
                   "with --notify-block.")
def setup_prefect(limit_name: str, pool: str, no_pool: bool, notify_block: str | None,
                  nightly_deadline: str) -> None:
    """Prepare the Prefect server in PREFECT_API_URL for motcua's deployments.

    Creates, if missing: the global concurrency limit (1 slot) that keeps a nightly run
    and a backfill from writing the warehouse at the same time, and the process work
    pool. With --notify-block, also the automations that notify when a nightly flow run
    fails, crashes or times out, or has not completed by --nightly-deadline. Safe to run
    again. Next: `prefect --no-prompt deploy --all`, then
    `prefect worker start --pool motcua-pool`.
    """
    from prefect.settings import get_current_settings

    api = get_current_settings().api.url
    if not api:
        click.secho("PREFECT_API_URL is not set: this would only prepare a temporary local server. "
                    "Start one (`prefect server start`) and set PREFECT_API_URL=http://127.0.0.1:4200/api.",
                    fg="red", err=True)
        sys.exit(1)
    try:
        deadline_hours(nightly_deadline)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--nightly-deadline") from None
    try:
        done = ensure_prefect_setup(limit_name, None if no_pool else pool, notify_block, nightly_deadline)
    except NotifyBlockError as exc:
        click.secho(f"motcua setup-prefect: {exc}", fg="red", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - unreachable server, bad credentials: say so
        click.secho(f"motcua setup-prefect failed on {api}: {exc}", fg="red", err=True)
        sys.exit(1)
    click.echo(f"Prefect server {api}:")
    for line in done:
        click.echo(f"  {line}")
    if not notify_block:
        click.echo("  no alerts set up: to be notified when a nightly run fails or is late, create a notification "
                   "block (UI: Blocks, e.g. Custom Webhook or Email) and run again with "
                   "--notify-block <block-type-slug>/<name> (docs/prefect.md, \"Alerts\")")
