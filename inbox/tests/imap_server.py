"""A real IMAP server for the tests: Debian's dovecot, run unprivileged from a temporary folder.

It listens on 127.0.0.1 with implicit TLS and with STARTTLS (a trustme certificate authority), keeps mail in
maildirs, reads each user from a passwd-file of their own (plain passwords), and accepts XOAUTH2 for tokens that its
oauth2 passdb validates against a small token-info endpoint served here (`ImapServer.oauth_tokens`).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import json
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from core.testing.live import free_port

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")
START_DEADLINE = 20.0

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
mail_fsync = never
mail_location = maildir:{root}/home/%u/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {starttls_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
  # No authentication penalty: the suite's deliberate failures (wrong passwords, expired tokens) all come from
  # 127.0.0.1 and would delay every later login of the session by up to 15 s.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf
}}
passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((path for path in DOVECOT_PATHS if os.access(path, os.X_OK)), None)


@dataclass
class ImapAccount:
    server: ImapServer
    username: str
    password: str

    def client(self) -> imaplib.IMAP4_SSL:
        return self.server.client(self.username, self.password)

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Puts a message in the folder as a mail server's delivery would (APPEND, unread)."""
        with self._session() as client:
            status, data = client.append(f'"{folder}"', None, None, raw)
            assert status == "OK", data

    def create_folder(self, name: str) -> None:
        with self._session() as client:
            client.create(f'"{name}"')

    def flags(self, folder: str = "INBOX") -> list[set[str]]:
        """The flags of every message in the folder, in order."""
        with self._session() as client:
            client.select(f'"{folder}"', readonly=True)
            _status, data = client.uid("FETCH", "1:*", "(FLAGS)")
            lines = [line for line in data if line]
            result = []
            for line in lines:
                text = line.decode() if isinstance(line, bytes) else line[0].decode()
                inner = text.split("FLAGS (", 1)[1].split(")", 1)[0]
                result.append(set(inner.split()))
            return result

    def count(self, folder: str = "INBOX") -> int:
        with self._session() as client:
            _status, data = client.select(f'"{folder}"', readonly=True)
            return int(data[0])

    @contextlib.contextmanager
    def _session(self):
        client = self.client()
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()


@dataclass
class ImapServer:
    root: Path
    port: int  # implicit TLS
    starttls_port: int  # plain IMAP that must be upgraded before logging in (ssl = required)
    ca: trustme.CA
    ca_path: Path
    host: str = "127.0.0.1"
    oauth_tokens: dict[str, str] = field(default_factory=dict)  # token → username
    process: subprocess.Popen | None = None
    tokeninfo: ThreadingHTTPServer | None = None

    def account(self, password: str = "s3cret-imap-pass") -> ImapAccount:
        """A new user with an empty mailbox (one per test: tests never see each other's mail)."""
        username = f"support-{uuid.uuid4().hex[:10]}"
        # One passwd-file per user (the path names the user): a new account is never hidden by a cached file.
        (self.root / "users" / username).write_text(f"{username}:{{PLAIN}}{password}\n")
        return ImapAccount(self, username, password)

    def client(self, username: str, password: str) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.ca_path))
        client = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        client.login(username, password)
        return client

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.tokeninfo is not None:
            self.tokeninfo.shutdown()
            self.tokeninfo.server_close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _unprivileged() -> tuple[str, str]:
    """The user dovecot runs as: ourselves, or nobody when the tests run as root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name


def _tokeninfo_server(tokens: dict[str, str]) -> ThreadingHTTPServer:
    """What dovecot's oauth2 passdb asks: "whose token is this?" (as Google's tokeninfo endpoint answers)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            token = self.path.split("access_token=", 1)[-1]
            user = tokens.get(token)
            body = json.dumps({"email": user} if user else {"error": "invalid_token"}).encode()
            self.send_response(200 if user else 401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def imap_server_start(ca_path: Path) -> ImapServer:
    """Starts dovecot in the foreground of a child process; returns once it accepts TLS connections."""
    binary = dovecot_binary()
    assert binary, "dovecot is not installed"
    user, group = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="switchboard-dovecot-"))
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    certificate.private_key_pem.write_to_path(str(root / "key.pem"))
    certificate.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    ca.cert_pem.write_to_path(str(ca_path))
    server = ImapServer(root=root, port=free_port(), starttls_port=free_port(), ca=ca, ca_path=ca_path)
    server.tokeninfo = _tokeninfo_server(server.oauth_tokens)
    tokeninfo_port = server.tokeninfo.server_address[1]
    (root / "oauth2.conf").write_text(
        f"tokeninfo_url = http://127.0.0.1:{tokeninfo_port}/tokeninfo?access_token=\nusername_attribute = email\n"
    )
    (root / "users").mkdir()
    config = CONFIG.format(root=root, user=user, group=group, port=server.port, starttls_port=server.starttls_port)
    (root / "dovecot.conf").write_text(config)
    for path in [root, *root.rglob("*")]:
        shutil.chown(path, user, group)
    server.process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")],
        user=user if os.geteuid() == 0 else None,
        group=group if os.geteuid() == 0 else None,
        stdout=subprocess.DEVNULL,
        stderr=(root / "stderr.log").open("wb"),
        start_new_session=True,
    )
    _wait_until_listening(server)
    return server


def _wait_until_listening(server: ImapServer) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        with contextlib.suppress(OSError), socket.create_connection((server.host, server.port), timeout=1):
            return
        time.sleep(0.05)
    stderr = (server.root / "stderr.log").read_text(errors="replace")
    server.stop()
    raise RuntimeError(f"dovecot did not start: {stderr}\n{server.log()}")
