"""Real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server that records requests.

Nothing is mocked: e-mails travel over SMTP through Django's SMTP backend, webhooks over HTTP
through the hardened requests session, and the receiver verifies signatures the way a
subscriber would.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import environ
import pytest
from django.contrib.auth.models import Group

from apps.accounts.roles import Role
from apps.notifications.models import Delivery, DeliveryStatus
from apps.notifications.services.sending import delivery_send
from tests import factories


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPRecorder:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if address in message["To"]]


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on 127.0.0.1; Django's e-mail settings point at it (smtp://127.0.0.1:port)."""
    from aiosmtpd.controller import Controller

    recorder = SMTPRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    for name, value in environ.Env.email_url_config(f"smtp://127.0.0.1:{port}").items():
        setattr(settings, name, value)
    try:
        yield recorder
    finally:
        controller.stop()


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HTTPReceiver:
    """An HTTP server on loopback answering with the scripted statuses (then 200), recording requests."""

    statuses: deque = field(default_factory=deque)
    delays: deque = field(default_factory=deque)
    delay_seconds: float = 0.0
    requests: list[ReceivedRequest] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hooks/meshvalue"

    def script(self, *statuses: int, delay_seconds: float = 0.0, first_delays: tuple[float, ...] = ()) -> None:
        """Answer with `statuses` in turn (then 200), after `first_delays` (then `delay_seconds`) each."""
        self.statuses.extend(statuses)
        self.delays.extend(first_delays)
        self.delay_seconds = delay_seconds

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedRequest]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= count:
                return self.requests
            time.sleep(0.05)
        raise AssertionError(f"expected {count} request(s), got {len(self.requests)}")


def verify_signature(request: ReceivedRequest, secret: str, *, tolerance_seconds: int = 300) -> None:
    """What a receiver does: recompute HMAC-SHA256 of "id.timestamp.body" and refuse stale timestamps."""
    msg_id = request.headers["webhook-id"]
    timestamp = request.headers["webhook-timestamp"]
    assert abs(time.time() - int(timestamp)) <= tolerance_seconds, "stale timestamp: a replay"
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + request.body, hashlib.sha256).digest()
    ).decode()
    header = request.headers["webhook-signature"]
    signatures = [part.split(",", 1)[1] for part in header.split() if part.startswith("v1,")]
    assert any(hmac.compare_digest(expected, signature) for signature in signatures), "bad signature"
    # And the reference implementation agrees.
    from standardwebhooks import Webhook

    Webhook(secret).verify(request.body, request.headers)


@pytest.fixture
def http_receiver():
    receiver = HTTPReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with receiver.lock:
                receiver.requests.append(
                    ReceivedRequest(path=self.path, headers={k.lower(): v for k, v in self.headers.items()}, body=body)
                )
                status = receiver.statuses.popleft() if receiver.statuses else 200
                delay = receiver.delays.popleft() if receiver.delays else receiver.delay_seconds
            if delay:
                time.sleep(delay)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "/elsewhere")
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"nope")

        def log_message(self, format, *args):  # keep the test output clean
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def send_pending(*, rounds: int = 1) -> list[str]:
    """Do what the worker does: attempt every due pending delivery (the test drives the clock)."""
    statuses = []
    for _ in range(rounds):
        for delivery_id in Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True):
            statuses.append(delivery_send(delivery_id=delivery_id).status)
    return statuses


def role_group(role: Role) -> Group:
    # get_or_create: a transactional test before this one may have flushed the migration's groups.
    return Group.objects.get_or_create(name=role.value)[0]


@pytest.fixture
def people(db):
    """A domain led by a governance lead, a product owned by a product owner, and bystanders."""
    lead = factories.UserFactory(username="lead", email="lead@example.com")
    lead.groups.add(role_group(Role.GOVERNANCE_LEAD))
    other_lead = factories.UserFactory(username="other-lead", email="other-lead@example.com")
    other_lead.groups.add(role_group(Role.GOVERNANCE_LEAD))
    owner = factories.UserFactory(username="owner", email="owner@example.com")
    owner.groups.add(role_group(Role.PRODUCT_OWNER))
    domain = factories.DomainFactory(name="Sales", slug="sales", owner=lead)
    other_domain = factories.DomainFactory(name="Finance", slug="finance", owner=other_lead)
    product = factories.DataProductFactory(name="Churn features", slug="churn-features", domain=domain, owner=owner)
    return {
        "lead": lead,
        "other_lead": other_lead,
        "owner": owner,
        "domain": domain,
        "other_domain": other_domain,
        "product": product,
    }
