"""``digest bounces fetch`` against a real IMAP server (dovecot on loopback): every report is processed
once and moved away, even when two fetchers run at the same time."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme
from sqlalchemy import Engine, func, select

from digest.bounces.models import BounceEvent
from digest.config import BounceSettings, Settings
from digest.db.engine import session_scope
from digest.scheduler import bounces_job, build_scheduler
from digest.subscribers import store as subscribers
from digest.tagging.rules import Ruleset
from tests.bounces.reports import CORPUS, hard_bounce
from tests.cli.test_feeds_cli import run
from tests.conftest import TOPICS
from tests.digests.helpers import subscribe
from tests.imapserver import ImapServer
from tests.test_scheduler import runtime

READERS = [f"reader{i}@example.net" for i in range(8)]


@pytest.fixture
def imap_server() -> Iterator[ImapServer]:
    # Not pytest's tmp_path: dovecot's own users must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="digest-imap-"))
    server = ImapServer(folder)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def environment(database_url: str, server: ImapServer) -> dict[str, str]:
    return {
        "DIGEST_DATABASE_URL": database_url,
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_SECRET_KEY": "k",
        "DIGEST_BOUNCES__IMAP_URL": server.url,
        "DIGEST_BOUNCES__IMAP_TLS": "none",
    }


def test_two_fetchers_at_once_process_each_bounce_exactly_once(
    engine: Engine, settings: Settings, ruleset: Ruleset, imap_server: ImapServer, database_url: str
) -> None:
    for reader in READERS:
        subscribe(engine, settings, reader, ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset)
    imap_server.deliver(*(hard_bounce(r, "bounces@bounce.example.org") for r in READERS))
    env = {**os.environ, **environment(database_url, imap_server)}
    command = [sys.executable, "-m", "digest", "bounces", "fetch"]
    fetchers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [f.communicate(timeout=120) for f in fetchers]
    assert [f.returncode for f in fetchers] == [0, 0], outputs
    processed = sum(int(out.split()[1].rstrip(b",")) for out, _err in outputs)
    assert processed == len(READERS), outputs
    assert imap_server.count("INBOX") == 0 and imap_server.count("digest-processed") == len(READERS)
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(BounceEvent)) == len(READERS)
        for reader in READERS:
            person = subscribers.by_email(s, reader)
            assert person is not None and person.status == "unsubscribed"
            assert [c.method for c in subscribers.consents(s, person)].count("bounce") == 1
    # A third run finds nothing left.
    again = run(database_url, "bounces", "fetch", env=environment(database_url, imap_server))
    assert again.exit_code == 0 and again.output.startswith("processed 0,")


def test_delete_instead_of_move_and_a_wrong_password(
    engine: Engine, imap_server: ImapServer, database_url: str
) -> None:
    imap_server.deliver((Path(__file__).parent / "corpus" / "qmail-failure.eml").read_bytes())
    env = {**environment(database_url, imap_server), "DIGEST_BOUNCES__IMAP_AFTER": "delete"}
    result = run(database_url, "bounces", "fetch", env=env)
    assert result.exit_code == 0 and result.output.startswith("processed 1,"), result.output
    assert imap_server.count("INBOX") == 0 and imap_server.count("digest-processed") == -1
    wrong = {**env, "DIGEST_BOUNCES__IMAP_URL": imap_server.url.replace("secret-password", "wrong")}
    refused = run(database_url, "bounces", "fetch", env=wrong)
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert refused.output.startswith(f"error: bounce mailbox 127.0.0.1:{imap_server.port}: ")
    unset = run(database_url, "bounces", "fetch")
    assert unset.exit_code == 2 and "set bounces.imap_url" in unset.output


def test_the_scheduler_job_fetches_the_mailbox(
    engine: Engine, ruleset: Ruleset, imap_server: ImapServer, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=database_url,
        secret_key="k",
        bounces=BounceSettings(imap_url=imap_server.url, imap_tls="none", fetch_minutes=3),
    )
    subscribe(engine, settings, READERS[0], ["deepfakes"], "daily", datetime.now(UTC) - timedelta(days=1), ruleset)
    imap_server.deliver(hard_bounce(READERS[0], "bounces@bounce.example.org"))
    scheduler = build_scheduler(runtime(engine, settings, ruleset), 60)
    assert str(scheduler.get_job("bounces").trigger) == "interval[0:03:00]"
    scheduler.shutdown(wait=False)
    with caplog.at_level(logging.INFO, logger="digest.run"):
        bounces_job()
    assert "bounces: 1 reports processed, 0 seen before" in [r.getMessage() for r in caplog.records]
    with session_scope(engine) as s:
        person = subscribers.by_email(s, READERS[0])
        assert person is not None and person.status == "unsubscribed"


@pytest.fixture
def tls_imap_server() -> Iterator[tuple[ImapServer, Path]]:
    folder = Path(tempfile.mkdtemp(prefix="digest-imaps-"))
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    cert, key, authority = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(authority))
    server = ImapServer(folder, tls=(cert, key))
    server.start()
    yield server, authority
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_tls_from_the_start_and_starttls_verify_the_certificate(
    database_url: str, tls_imap_server: tuple[ImapServer, Path]
) -> None:
    server, authority = tls_imap_server
    report = (CORPUS / "qmail-failure.eml").read_bytes()
    server.deliver(report, report.replace(b"qmail-send", b"qmail-send (again)"))
    imaps = server.url.replace("imap://", "imaps://").replace(f":{server.port}", f":{server.tls_port}")
    base = {**environment(database_url, server), "DIGEST_BOUNCES__IMAP_TLS": "tls"}
    untrusted = run(database_url, "bounces", "fetch", env={**base, "DIGEST_BOUNCES__IMAP_URL": imaps})
    assert untrusted.exit_code == 2 and "TLS failed: CERTIFICATE_VERIFY_FAILED" in untrusted.output
    trusted = {**base, "DIGEST_BOUNCES__IMAP_URL": imaps, "DIGEST_BOUNCES__IMAP_CA_FILE": str(authority)}
    assert run(database_url, "bounces", "fetch", env=trusted).output.startswith("processed 2,")
    server.deliver(report.replace(b"qmail-send", b"qmail-send (third)"))
    starttls = {**base, "DIGEST_BOUNCES__IMAP_TLS": "starttls", "DIGEST_BOUNCES__IMAP_CA_FILE": str(authority)}
    assert run(database_url, "bounces", "fetch", env=starttls).output.startswith("processed 1,")
