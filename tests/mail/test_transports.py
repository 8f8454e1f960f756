"""Delivering mail: the file outbox, and a real SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.mail.message import build_message, header_text
from digest.mail.transports import DeliveryError, FileOutbox, SmtpTransport, open_transport
from tests.mailbox import messages, text_of
from tests.smtpserver import SmtpServer


def message(to: str = "reader@example.org", subject: str = "Hello") -> object:
    return build_message(
        sender=("Digest", "digest@example.org"), to=to, subject=subject, text="Body text.", html="<p>Body text.</p>"
    )


def test_the_file_outbox_writes_whole_messages_only(tmp_path: Path) -> None:
    outbox = open_transport(f"file://{tmp_path}/out")
    assert isinstance(outbox, FileOutbox)
    for i in range(3):
        outbox.send(message(subject=f"Message {i}"))  # type: ignore[arg-type]
    found = messages(tmp_path / "out")
    assert sorted(m["Subject"] for m in found) == ["Message 0", "Message 1", "Message 2"]
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left behind
    assert text_of(found[0]).strip() == "Body text."


def test_smtp_reuses_one_connection_for_many_messages(smtp_server: SmtpServer) -> None:
    transport = open_transport(smtp_server.url)
    assert isinstance(transport, SmtpTransport)
    for i in range(3):
        transport.send(message(to=f"r{i}@example.org"))  # type: ignore[arg-type]
    transport.close()
    assert [r.recipients for r in smtp_server.sink.received] == [
        ["r0@example.org"],
        ["r1@example.org"],
        ["r2@example.org"],
    ]
    assert smtp_server.sink.connections == 1


def test_smtp_failures_say_whether_to_retry(smtp_server: SmtpServer) -> None:
    smtp_server.sink.refuse = {"gone@example.org": "550 5.1.1 No such user", "busy@example.org": "451 4.3.0 Try later"}
    transport = SmtpTransport(smtp_server.url)
    with pytest.raises(DeliveryError) as permanent:
        transport.send(message(to="gone@example.org"))  # type: ignore[arg-type]
    assert permanent.value.permanent and "550" in str(permanent.value)
    with pytest.raises(DeliveryError) as temporary:
        transport.send(message(to="busy@example.org"))  # type: ignore[arg-type]
    assert not temporary.value.permanent
    transport.send(message())  # type: ignore[arg-type]
    transport.close()
    assert [r.recipients for r in smtp_server.sink.received] == [["reader@example.org"]]


def test_an_unreachable_server_is_a_temporary_failure() -> None:
    with pytest.raises(DeliveryError) as info:
        SmtpTransport("smtp://127.0.0.1:9", timeout=2).send(message())  # type: ignore[arg-type]
    assert not info.value.permanent


@pytest.mark.parametrize("url", ["ftp://x/", "file://", "smtp://", "mailto:x@example.org"])
def test_unusable_mail_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="mail URL"):
        open_transport(url)


def test_header_values_cannot_carry_new_headers() -> None:
    built = build_message(
        sender=("Digest\r\nBcc: x@evil.example", "digest@example.org"),
        to="r@example.org",
        subject="Hi\r\nBcc: victim@example.org\n\x00",
        text="x",
    )
    raw = built.as_string()
    assert "\nBcc:" not in raw and built["Subject"] == "Hi Bcc: victim@example.org"
    assert header_text("a" * 500, limit=50).endswith("…")


def test_a_connection_the_server_closed_is_reopened_before_the_next_message(smtp_server: SmtpServer) -> None:
    transport = open_transport(smtp_server.url)
    assert isinstance(transport, SmtpTransport)
    transport.send(message(to="r0@example.org"))  # type: ignore[arg-type]
    assert transport._smtp is not None and transport._smtp.sock is not None
    transport._smtp.sock.shutdown(2)  # as after a server's idle timeout: the socket is dead, unnoticed
    transport.send(message(to="r1@example.org"))  # type: ignore[arg-type]
    # A 421 closes the connection: the next message goes out on a new one, not into a dead socket.
    smtp_server.sink.refuse = {"r2@example.org": "421 4.3.2 Closing"}
    with pytest.raises(DeliveryError) as refused:
        transport.send(message(to="r2@example.org"))  # type: ignore[arg-type]
    assert not refused.value.permanent and "421" in str(refused.value)
    transport.send(message(to="r3@example.org"))  # type: ignore[arg-type]
    transport.close()
    assert [r.recipients for r in smtp_server.sink.received] == [
        ["r0@example.org"],
        ["r1@example.org"],
        ["r3@example.org"],
    ]
    assert smtp_server.sink.connections == 3
