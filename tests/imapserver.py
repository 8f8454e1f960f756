"""A real IMAP server for tests: Debian's dovecot in the foreground on a loopback port, with a throwaway
configuration, password file and maildir in a temporary folder (no root-owned paths are used)."""

from __future__ import annotations

import getpass
import imaplib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.ports import closed_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "secret-password"


class ImapServer:
    def __init__(self, folder: Path, tls: tuple[Path, Path] | None = None) -> None:
        """``tls``: a certificate and key file; then the server offers STARTTLS and also listens with
        TLS from the start on ``tls_port``."""
        if not Path(DOVECOT).exists():
            pytest.skip("dovecot is not installed (.ci/run installs dovecot-imapd)")
        self.folder = folder
        self.port = closed_port()
        self.tls_port = closed_port()
        self.tls = tls
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}"

    def start(self) -> None:
        root = self.folder
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        if os.getuid() == 0:
            # Dovecot never accesses mail as root: the mail belongs to nobody, the services to its own users.
            uid = gid = 65534
            users = ""
            os.chown(root / "mail", uid, gid)
            root.chmod(0o755)  # dovecot's own users read the configuration and password file
        else:
            uid, gid = os.getuid(), os.getgid()
            users = f"default_internal_user = {getpass.getuser()}\ndefault_login_user = {getpass.getuser()}\n"
        ssl = "ssl = no"
        if self.tls:
            for path in self.tls:
                path.chmod(0o644)  # dovecot reads them as root, at start, before dropping privileges
            ssl = f"ssl = yes\nssl_cert = <{self.tls[0]}\nssl_key = <{self.tls[1]}"
        conf = root / "dovecot.conf"
        conf.write_text(
            f"""base_dir = {root}/run
state_dir = {root}/state
log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
{users}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port if self.tls else 0}
  }}
}}
"""
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                self.client().logout()
                return
            except OSError:
                if self.process.poll() is not None:
                    error = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise RuntimeError(f"dovecot did not start: {error}") from None
                time.sleep(0.1)
            except imaplib.IMAP4.error:  # listening, but its authentication process is still starting
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start listening")

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        imap = self.client()
        for raw in messages:
            imap.append(folder, None, None, raw)
        imap.logout()

    def count(self, folder: str) -> int:
        imap = self.client()
        status, data = imap.select(f'"{folder}"', readonly=True)
        imap.logout()
        return int(data[0] or 0) if status == "OK" else -1

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stderr:
                self.process.stderr.close()
