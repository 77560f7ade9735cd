"""The real evaluation opens alerts; their people hear about each once, and a re-run sends nothing new."""

from __future__ import annotations

import json
from collections import Counter

from apps.notifications.models import Delivery
from apps.valuation.services import portfolio_evaluate
from tests.apps.notifications.conftest import send_pending, verify_signature
from tests.apps.notifications.helpers import subscribe
from tests.apps.valuation.scenario import AS_OF, build_scenario


def test_evaluation_to_inbox_email_and_webhook_once(governance_lead, smtp_server, http_receiver):
    build_scenario()  # eight alerts open as of AS_OF; the Retail domain has no lead of its own
    subscription = subscribe(http_receiver, kinds=["retire", "invest", "review", "stale_kpi", "orphaned", "bet_due"])

    summary = portfolio_evaluate(as_of=AS_OF)
    assert summary.alerts_opened == 8
    assert set(send_pending()) == {"sent"}

    # Every alert reached the governance lead and the product's owner by e-mail, in one message
    # per person listing that person's alerts of the evaluation...
    per_address = Counter(message["To"] for message in smtp_server.messages)
    assert per_address == {"gov@example.com": 1, "alice@example.com": 1, "bob@example.com": 1, "erin@example.com": 1}
    email_rows = Delivery.objects.filter(channel="email")
    assert email_rows.count() == 16 and set(email_rows.values_list("status", flat=True)) == {"sent"}
    [to_lead] = smtp_server.to("gov@example.com")
    assert to_lead["Subject"].startswith("[meshvalue] 8 new alerts: ")
    text = to_lead.get_body(preferencelist=("plain",)).get_content()
    for alert_id in email_rows.filter(user__email="gov@example.com").values_list("alert_id", flat=True):
        assert f"/inbox/alerts/{alert_id}/" in text
    # ...and the receiver once, signed, with the evaluation's figures.
    assert len(http_receiver.requests) == 8
    events = []
    for request in http_receiver.requests:
        verify_signature(request, subscription.secret)
        events.append(json.loads(request.body)["data"])
    alpha = next(event for event in events if event["data_product"]["slug"] == "alpha")
    assert alpha["alert"]["kind"] == "retire"
    assert (alpha["evaluation"]["value"], alpha["evaluation"]["cost"], alpha["evaluation"]["ratio"]) == (
        "480.00",
        "1800.00",
        "0.2667",
    )
    assert alpha["evaluation"]["recommendation"] == "retire"

    # Running the same evaluation again sends nothing new.
    deliveries = Delivery.objects.count()
    portfolio_evaluate(as_of=AS_OF)
    assert send_pending(rounds=2) == []
    assert Delivery.objects.count() == deliveries
    assert len(smtp_server.messages) == 4 and len(http_receiver.requests) == 8
