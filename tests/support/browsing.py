"""A browser for the page's tests: Debian's Chromium driven by Playwright (never
``playwright install``), one per test module, and axe-core's findings on a page."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("EXPLAIN_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]


def browser_or_skip():
    """Playwright's sync API, or a skip saying what is missing (a failure where
    EXPLAIN_REQUIRE_BROWSER=1, as in CI)."""
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why, sync_playwright = "playwright is not installed (pip install playwright)", None
    if why is None and not Path(CHROMIUM).exists():
        why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if why:
        if os.environ.get("EXPLAIN_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def axe_serious(page) -> list:
    """axe-core's serious and critical findings on the page as it is: (rule, nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in found if v["impact"] in ("serious", "critical")]
