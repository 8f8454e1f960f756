"""``digest bounces process|serve|fetch``: feeding what comes back after sending to the one processor."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import click

from digest.cli.context import AppContext, BadInput, counting_progress, pass_app

if TYPE_CHECKING:
    from digest.bounces.process import Processor


@click.group()
def bounces() -> None:
    """Bounces and complaints: process files, serve LMTP, fetch from IMAP."""


def _processor(app: AppContext) -> Processor:
    from digest.bounces.process import Processor, purge_originals
    from digest.subscribers.links import make_signer

    engine = app.engine()
    purge_originals(engine, app.settings)  # originals past bounces.keep_days go first
    return Processor(engine, app.settings, make_signer(app.settings, engine).keys)


@bounces.command("process")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def process(app: AppContext, files: tuple[Path, ...]) -> None:
    """Process bounce and complaint messages from files (.eml), or one message from stdin."""
    for path in files:
        if not path.is_file():
            raise BadInput(f"{path}: no such file")
    processor = _processor(app)
    counts: Counter[str] = Counter()
    if not files:
        outcome = processor.process_message(sys.stdin.buffer.read(), "file")
        counts[f"{outcome.kind}: {outcome.action}"] += 1
    # A progress bar over many files (a maildir); none for one message from an MTA's pipe.
    progress = counting_progress(app.console, "processing", show_item=True) if len(files) > 1 else None
    with progress or contextlib.nullcontext():
        task = progress.add_task("", total=len(files)) if progress is not None else None
        for path in files:
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise BadInput(f"{path}: cannot be read: {exc.strerror}") from None
            outcome = processor.process_message(raw, "file")
            counts[f"{outcome.kind}: {outcome.action}"] += 1
            if progress is not None and task is not None:
                progress.update(task, advance=1, description=path.name)
    for label, n in sorted(counts.items()):
        click.echo(f"{label} {n}")


@bounces.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2424, show_default=True, type=click.IntRange(0, 65535), help="0: any free port.")
@pass_app
def serve(app: AppContext, host: str, port: int) -> None:
    """An LMTP server for the bounce domain: each report is stored before it is answered 250."""
    from digest.bounces.lmtp import start_lmtp

    try:
        controller = start_lmtp(_processor(app), host, port)
    except OSError as exc:
        raise BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"LMTP on {host}:{controller.port} for the bounce domain", err=True)
    try:
        stop.wait()
    finally:
        controller.stop()


@bounces.command("fetch")
@pass_app
def fetch(app: AppContext) -> None:
    """Fetch bounces from the IMAP mailbox (bounces.imap_url), process them, then move or delete them."""
    from digest.bounces.imap import fetch_mailbox

    if not app.settings.bounces.imap_url:
        raise BadInput("no mailbox to fetch from: set bounces.imap_url (DIGEST_BOUNCES__IMAP_URL)")
    report = fetch_mailbox(app.engine(), app.settings, _processor(app))
    click.echo(f"processed {report.processed}, already done {report.skipped}, left for another fetcher {report.busy}")
