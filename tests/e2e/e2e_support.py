"""What the browser tests share besides fixtures: paths, the page wrapper and the axe check."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Response

E2E_DIR = Path(__file__).resolve().parent
REPOSITORY_ROOT = E2E_DIR.parent.parent
ARTIFACTS = E2E_DIR / "artifacts"
AXE_SCRIPT = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = Path(os.environ.get("QC_E2E_CHROMIUM", "/usr/bin/chromium"))


@dataclass
class Tab:
    """A page and what its browser console said, for assertions and failure reports."""

    name: str
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self._record("pageerror", str(error)))
        self.page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        self._record(message.type, f"{message.text} ({message.location.get('url', '')})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.console.append(
                f"[http {response.status}] {response.request.method} {response.url}"
            )

    def _record(self, kind: str, text: str) -> None:
        self.console.append(f"[{kind}] {self.page.url}: {text}")
        if kind in ("error", "pageerror"):
            self.errors.append(text)

    def screenshot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# --- accessibility -------------------------------------------------------------------------

# Violations of these impacts fail a page; moderate and minor ones are only written down.
BLOCKING_IMPACTS = {"serious", "critical"}


def axe_violations(page: Page, disable_rules: tuple[str, ...] = ()) -> list[dict]:
    """Run axe-core on the page as it is now and return its violations."""
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `make e2e` (npm install)"
    # Our CSP allows no inline script, so add_script_tag (an inline <script>) is refused;
    # evaluate() runs in the page's main world through the DevTools protocol, which CSP
    # does not govern, so the page keeps its real CSP for everything else.
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT.read_text())
    options = {
        "resultTypes": ["violations"],
        "rules": {rule: {"enabled": False} for rule in disable_rules},
    }
    results = page.evaluate("options => window.axe.run(document, options)", options)
    return results["violations"]


# Rules left out on admin pages: none any more, since their <html> has lang="en" too
# (qcapp/admin/templating.py).
ADMIN_RULES_OFF: tuple[str, ...] = ()


def assert_accessible(tab: Tab, name: str, disable_rules: tuple[str, ...] = ()) -> None:
    violations = axe_violations(tab.page, disable_rules)
    lines = [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        + "\n    "
        + v["nodes"][0].get("failureSummary", "").replace("\n", "\n    ")
        for v in violations
    ]
    (ARTIFACTS / f"axe-{name}.txt").write_text(
        f"{tab.page.url}\n" + ("\n".join(lines) or "no violations") + "\n"
    )
    blocking = [
        line for v, line in zip(violations, lines, strict=True) if v["impact"] in BLOCKING_IMPACTS
    ]
    assert not blocking, f"axe found serious problems on {name}:\n" + "\n".join(blocking)
