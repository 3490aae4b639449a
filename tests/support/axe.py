"""axe-core (axe-playwright-python) on a page as it is: its serious and critical findings."""


def axe_serious(page) -> list:
    """axe-core's serious and critical findings on the page as it is: (rule, nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in found if v["impact"] in ("serious", "critical")]
