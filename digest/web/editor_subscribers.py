"""The console's subscribers: counts, a search that never lists addresses in bulk, one person's page
(resend the confirmation, unsubscribe on their request, export, erase), and CSV import.

A search shows at most 20 addresses, and only for three characters or more. Acting for a reader is
recorded as such: an unsubscription asked for by the reader and done by an editor has its own method
in the consent log.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from digest.db.engine import session_scope
from digest.editors.models import Editor
from digest.mail.transports import DeliveryError, Sending
from digest.subscribers import signup
from digest.subscribers import store as subscribers
from digest.subscribers.import_report import ImportLines, describe_import
from digest.subscribers.importer import import_csv
from digest.subscribers.links import links_for
from digest.subscribers.models import Subscriber
from digest.subscribers.notices import signup_message
from digest.subscribers.privacy import erase_subscriber, export_subscriber
from digest.web.common import NO_STORE, state
from digest.web.editor_auth import checked_form, render_console, require_editor
from digest.web.editor_forms import Notice, back, error, read_upload, success

router = APIRouter(prefix="/editor")
UNSUBSCRIBED_ON_REQUEST = "editor-on-request"  # the consent log's method: the reader asked an editor
MAX_CSV_BYTES = 20 * 1024 * 1024
METHODS = {
    "web": "on the web form",
    "email-link": "by the emailed link",
    "one-click": "by one-click unsubscribe",
    "import": "by an import",
    "editor": "by an editor",
    "cli": "on the command line",
    UNSUBSCRIBED_ON_REQUEST: "by an editor, on the reader's request",
}


def _list_page(
    request: Request,
    session: Session,
    editor: Editor,
    *,
    notice: Notice | None = None,
    status: int = 200,
    imported: ImportLines | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    web = state(request)
    query = request.query_params.get("q", "").strip()[:200]
    # At most 20 addresses, and only for 3 characters or more: no bulk listing.
    found = subscribers.search(session, query) if len(query) >= 3 else []
    return render_console(
        request,
        editor,
        "subscribers",
        notice=notice,
        status=status,
        by_status=subscribers.count_by_status(session),
        by_topic=subscribers.count_by_topic(session),
        topics=web.ruleset.topics,
        query=query,
        found=found,
        imported=imported,
        typed=typed or {},
    )


@router.get("/subscribers", response_class=HTMLResponse)
def people(request: Request) -> HTMLResponse:
    with session_scope(state(request).engine) as session:
        return _list_page(request, session, require_editor(request, session))


def _person(session: Session, subscriber_id: int) -> Subscriber | None:
    return session.get(Subscriber, subscriber_id)


@router.get("/subscribers/{subscriber_id}", response_model=None)
def person(request: Request, subscriber_id: int) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor = require_editor(request, session)
        subscriber = _person(session, subscriber_id)
        if subscriber is None:
            return back(request, editor, "/editor/subscribers", error("no such subscriber (erased?)", "a subscriber"))
        return render_console(
            request,
            editor,
            "subscribers",
            template="editor_subscriber.html",
            person=subscriber,
            consents=subscribers.consents(session, subscriber),
            methods=METHODS,
            topic_names={t.slug: t.name for t in web.ruleset.topics},
        )


@router.post("/subscribers/{subscriber_id}/{action}", response_model=None)
async def act(request: Request, subscriber_id: int, action: str) -> Response:
    web = state(request)
    now = datetime.now(UTC)
    with session_scope(web.engine) as session:
        editor, form = await checked_form(request, session)
        subscriber = _person(session, subscriber_id)
        if subscriber is None:
            return back(request, editor, "/editor/subscribers", error("no such subscriber (erased?)", "a subscriber"))
        about, here = f"subscriber {subscriber.email}", f"/editor/subscribers/{subscriber_id}"
        if action == "unsubscribe":
            if not signup.unsubscribe(session, subscriber, UNSUBSCRIBED_ON_REQUEST, now):
                return back(request, editor, here, error("already unsubscribed.", about))
            return back(request, editor, here, success("unsubscribed on their request; nothing more is sent.", about))
        if action == "erase":
            if form.get("confirm") != "yes":
                return back(request, editor, here, error("tick the box to confirm they asked to be erased.", about))
            erase_subscriber(session, subscriber, now)
            text = "erased; only a salted hash remains, so imports will skip the address."
            return back(request, editor, "/editor/subscribers", success(text, about))
        if action != "resend":
            return back(request, editor, here, error(f"unknown action {action}", about))
        if subscriber.status != "pending":
            return back(request, editor, here, error(f"not pending ({subscriber.status}): nothing to confirm.", about))
        names = {t.slug: t.name for t in web.ruleset.topics}
        message = signup_message(
            web.settings, "confirm", subscriber, links_for(web.settings, web.signer, subscriber), names
        )
        subscriber.last_mail_request_at = now
    try:
        await run_in_threadpool(_send, web.settings.mail_url, message)
    except (DeliveryError, OSError, ValueError) as exc:
        return back(request, editor, here, error(f"the confirmation mail could not be sent: {exc}", about))
    return back(request, editor, here, success("a new confirmation mail is on its way.", about))


def _send(mail_url: str, message: EmailMessage) -> None:
    with Sending(mail_url) as transport:
        transport.send(message)


@router.get("/subscribers/{subscriber_id}/export", response_model=None)
def export(request: Request, subscriber_id: int) -> Response:
    with session_scope(state(request).engine) as session:
        editor = require_editor(request, session)
        subscriber = _person(session, subscriber_id)
        if subscriber is None:
            return back(request, editor, "/editor/subscribers", error("no such subscriber (erased?)", "a subscriber"))
        exported = export_subscriber(session, subscriber)
        data = json.dumps(exported, indent=2, ensure_ascii=False)
    return Response(
        data,
        media_type="application/json",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="subscriber-{subscriber_id}.json"'},
    )


@router.post("/subscribers/import", response_model=None)
async def import_people(request: Request) -> Response:
    web = state(request)
    with session_scope(web.engine) as session:
        editor, form = await checked_form(request, session)
    typed = {"topics": form.get("topics", "").strip(), "frequency": form.get("frequency", "")}
    document = await read_upload(request, "file", MAX_CSV_BYTES)
    problem = None
    if not document.strip():
        problem = "choose a CSV file to import (email,topics,frequency,confirmed, or a listmonk export)."
    elif len(document) > MAX_CSV_BYTES:
        problem = (
            f"the file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB: import it with 'digest subscribers import'."
        )
    if problem is not None:
        with session_scope(web.engine) as session:
            notice = error(problem, "importing subscribers")
            return _list_page(request, session, editor, notice=notice, status=400, typed=typed)
    topics = [t.strip() for t in typed["topics"].replace(";", ",").split(",") if t.strip()]
    frequency = typed["frequency"] if typed["frequency"] in ("daily", "weekly") else None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "import.csv"
        path.write_bytes(document)
        report = await run_in_threadpool(
            import_csv,
            web.engine,
            web.settings,
            path,
            web.ruleset.slugs,
            default_topics=topics,
            default_frequency=frequency,
        )
    told = describe_import(report)
    with session_scope(web.engine) as session:
        notice = (error if report.error_count and not report.added else success)(told.summary, "importing subscribers")
        return _list_page(request, session, editor, notice=notice, imported=told, typed=typed)
