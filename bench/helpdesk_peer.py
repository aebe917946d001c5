"""django-helpdesk 2.6.1 as the peer of bench/helpdesk_tickets.py --only http: its project, database, 100k tickets
and gunicorn server. None of django-helpdesk's code lives in this repository; it is installed in a virtualenv of
its own, outside the checkout:

    python3 -m venv /work/peer/venv
    /work/peer/venv/bin/pip install django-helpdesk==2.6.1 gunicorn 'psycopg[binary]'

Given that directory (`--peer /work/peer`), this module writes a minimal Django project next to the virtualenv
(peerproj/: django-helpdesk's documented INSTALLED_APPS, teams mode off so pinax-teams is not needed, DEBUG off,
persistent database connections as Switchboard has), creates its database `peer_helpdesk` on the same PostgreSQL
server, migrates it, and copies Switchboard's benchmark tickets into it (same subjects, texts, requesters' emails,
statuses, priorities, assignees, dates; Switchboard's messages become public follow-ups), one queue per team.
The server is gunicorn with two sync workers, as django-helpdesk's docs deploy it.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg

DB_NAME = "peer_helpdesk"

SETTINGS = '''"""Written by Switchboard's bench/helpdesk_peer.py: django-helpdesk as documented, DEBUG off."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "peer-bench-only-not-a-secret-" + "x" * 30
DEBUG = False
ALLOWED_HOSTS = ["*"]
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "rest_framework.authtoken", "helpdesk",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peerproj.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB_NAME"],
    "USER": os.environ["PEER_DB_USER"], "PASSWORD": os.environ.get("PEER_DB_PASSWORD", ""),
    "HOST": os.environ["PEER_DB_HOST"], "PORT": os.environ.get("PEER_DB_PORT", ""), "CONN_MAX_AGE": 60,
}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "/static/"
USE_TZ = True
TIME_ZONE = "UTC"
LOGIN_URL = "/helpdesk/login/"
HELPDESK_TEAMS_MODE_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
    "rest_framework.authentication.TokenAuthentication", "rest_framework.authentication.SessionAuthentication",
]}
'''
URLS = 'from django.urls import include, path\n\nurlpatterns = [path("helpdesk/", include("helpdesk.urls"))]\n'
WSGI = (
    "import os\nfrom django.core.wsgi import get_wsgi_application\n\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerproj.settings")\napplication = get_wsgi_application()\n'
)

# Run in the peer's own Python: its users (passwords hashed by its Django), an API token, a signed-in session.
USERS_SCRIPT = """
import json, sys
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token
from helpdesk.models import Queue
given = json.loads(sys.stdin.read())
emails = given["emails"]
queues = {
    slug: Queue.objects.get_or_create(slug=slug, defaults={"title": title, "allow_public_submission": True})[0].pk
    for slug, title in given["queues"]
}
for email in emails:
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email, "is_staff": True})
main = User.objects.get(username=emails[0])
main.is_superuser = True
main.set_password("peer-bench")
main.save()
client = Client()
client.force_login(main)
print(json.dumps({"token": Token.objects.get_or_create(user=main)[0].key,
                  "session": client.cookies["sessionid"].value, "queues": queues}))
"""


@dataclass
class Peer:
    directory: Path
    env: dict[str, str]
    token: str = ""
    session: str = ""
    queue_id: int = 0

    @property
    def python(self) -> str:
        return str(self.directory / "venv" / "bin" / "python")

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=self.directory,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"peer manage.py {args[0]} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def gunicorn_command(self, fd: int) -> list[str]:
        binary = str(self.directory / "venv" / "bin" / "gunicorn")
        return [binary, "--bind", f"fd://{fd}", "--workers", "2", "--worker-class", "sync", "peerproj.wsgi:application"]


def peer_prepare(directory: Path, switchboard_db: dict, schema: str, agent_emails: list[str]) -> Peer:
    """The peer project, database, users and tickets (seeded once; later runs reuse them)."""
    if not (directory / "venv" / "bin" / "gunicorn").exists():
        raise SystemExit(f"No django-helpdesk virtualenv in {directory}: see bench/helpdesk_peer.py for the install.")
    project = directory / "peerproj"
    project.mkdir(exist_ok=True)
    for name, text in {"__init__.py": "", "settings.py": SETTINGS, "urls.py": URLS, "wsgi.py": WSGI}.items():
        (project / name).write_text(text)
    (directory / "manage.py").write_text(
        "import os, sys\nfrom django.core.management import execute_from_command_line\n\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerproj.settings")\nexecute_from_command_line(sys.argv)\n'
    )
    _database_ensure(switchboard_db)
    env = os.environ | _peer_db_env(switchboard_db) | {"DJANGO_SETTINGS_MODULE": "peerproj.settings"}
    env.pop("PYTHONPATH", None)
    peer = Peer(directory=directory, env=env)
    peer.manage("migrate", "--verbosity", "0")
    with _connect(switchboard_db, switchboard_db["NAME"]) as source:
        teams = source.execute(f"SELECT id, name FROM {schema}.helpdesk_team ORDER BY id").fetchall()
        queues = [(f"q{team_id}", name) for team_id, name in [(0, "General"), *teams]]
        given = {"emails": agent_emails, "queues": queues}
        output = peer.manage("shell", "-c", USERS_SCRIPT, stdin=json.dumps(given))
        credentials = json.loads(output.strip().splitlines()[-1])  # after what the shell prints itself
        peer.token, peer.session = credentials["token"], credentials["session"]
        queues = {int(slug[1:]): pk for slug, pk in credentials["queues"].items()}
        peer.queue_id = queues[0]
        with _connect(switchboard_db, DB_NAME) as peer_db:
            _seed(peer_db, source, schema, queues)
    return peer


def _host(db: dict) -> str:
    return db.get("HOST") or (db.get("OPTIONS") or {}).get("host", "")


def _connect(db: dict, name: str) -> psycopg.Connection:
    return psycopg.connect(
        dbname=name, user=db["USER"], password=db.get("PASSWORD") or None, host=_host(db), port=db.get("PORT") or None
    )


def _peer_db_env(db: dict) -> dict[str, str]:
    values = {"NAME": DB_NAME, "USER": db["USER"], "PASSWORD": db.get("PASSWORD") or "", "HOST": _host(db)}
    values["PORT"] = str(db.get("PORT") or "")
    return {f"PEER_DB_{key}": value for key, value in values.items()}


def _database_ensure(db: dict) -> None:
    with _connect(db, "postgres") as admin:
        admin.autocommit = True
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')


TICKETS_SQL = """
SELECT t.id, left(t.subject, 200), t.created, t.updated, c.email,
       CASE t.status WHEN 'solved' THEN 3 WHEN 'closed' THEN 4 ELSE 1 END, t.status = 'on_hold',
       t.original_description, '', CASE t.priority WHEN 'urgent' THEN 1 WHEN 'high' THEN 2 WHEN 'normal' THEN 3
       ELSE 4 END, t.sla_due_at, u.email, coalesce(t.team_id, 0), gen_random_uuid()::text
FROM {schema}.helpdesk_ticket t
JOIN {schema}.customers_contact c ON c.id = t.requester_id
LEFT JOIN {schema}.accounts_user u ON u.id = t.assignee_id
ORDER BY t.id
"""
MESSAGES_SQL = """
SELECT m.created, 'Comment', m.body, true, m.ticket_id, u.email
FROM {schema}.helpdesk_ticketmessage m LEFT JOIN {schema}.accounts_user u ON u.id = m.author_id
ORDER BY m.id
"""
TICKET_COLUMNS = (
    "id, title, created, modified, submitter_email, status, on_hold, description, resolution, priority, due_date, "
    "assigned_to_id, queue_id, secret_key"
)


def _seed(peer_db: psycopg.Connection, source: psycopg.Connection, schema: str, queues: dict[int, int]) -> None:
    """Copies the benchmark workspace's tickets and messages, once."""
    if peer_db.execute("SELECT count(*) FROM helpdesk_ticket").fetchone()[0] == 0:
        users = dict(peer_db.execute("SELECT email, id FROM auth_user").fetchall())
        with peer_db.cursor().copy(f"COPY helpdesk_ticket ({TICKET_COLUMNS}) FROM STDIN") as copy:
            for row in source.execute(TICKETS_SQL.format(schema=schema)):
                *head, assignee, team_id, secret = row
                copy.write_row([*head, users.get(assignee), queues.get(team_id, queues[0]), secret])
        columns = "date, title, comment, public, ticket_id, user_id"
        with peer_db.cursor().copy(f"COPY helpdesk_followup ({columns}) FROM STDIN") as copy:
            for *head, author in source.execute(MESSAGES_SQL.format(schema=schema)):
                copy.write_row([*head, users.get(author)])
        peer_db.execute(
            "SELECT setval(pg_get_serial_sequence('helpdesk_ticket', 'id'), (SELECT max(id) FROM helpdesk_ticket))"
        )
        peer_db.commit()
        peer_db.execute("ANALYZE helpdesk_ticket, helpdesk_followup")
        peer_db.commit()
