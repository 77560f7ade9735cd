"""Every main page, as each role, runs under the Content-Security-Policy with no violation.

Chromium reports a refused script, style, image, font or connection twice: as a console message
containing "Content Security Policy" and as a `securitypolicyviolation` event. The test listens
for both (the event listener is a Playwright init script, which the page's policy does not govern).
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import _user, sign_in

VIOLATIONS_SCRIPT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline")
    + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


def main_pages(demo) -> dict[str, str]:
    return {
        "dashboard": "/",
        "inbox": "/inbox/",
        "catalog": "/catalog/",
        "alert": f"/inbox/alerts/{demo.alert.pk}/",
        "product": f"/products/{demo.product.slug}/",
        "goal": f"/goals/{demo.goal.slug}/",
        "kpi": f"/kpis/{demo.kpi.pk}/",
        "decision log": "/inbox/decisions/",
        "workspace": "/workspace/",
        "notification settings": "/profile/notifications/",
        "api docs": "/api/docs/",
    }


@pytest.mark.parametrize("username", ["exec", "owner", "gov", "root"])
def test_every_main_page_runs_under_the_csp_without_a_violation(page, live_server, demo, username):
    _user("root", None, is_staff=True, is_superuser=True)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(VIOLATIONS_SCRIPT)
    sign_in(page, live_server, username)
    visited = 0
    for name, path in main_pages(demo).items():
        response = page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert response is not None
        if response.status == 200:
            visited += 1
            assert "'self'" in response.headers["content-security-policy"], name
        if name == "api docs" and response.status == 200:
            page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)  # the UI really rendered
        if name == "dashboard" and response.status == 200 and username in ("exec", "gov", "root"):
            page.wait_for_selector("[data-chart] .main-svg", timeout=15_000)  # Plotly drew its charts
        violations = page.evaluate("window.__cspViolations")
        assert violations == [], f"{username} on {name}: {violations}"
    assert visited >= 5
    assert [text for text in console if "Content Security Policy" in text] == []
