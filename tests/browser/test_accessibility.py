"""axe-core on every page (no serious or critical violation), and no sideways scrolling at 320 px.

axe-core comes bundled in the axe-playwright-python wheel (axe.min.js inside the package) and is
injected through Playwright, so nothing is fetched at run time and the page's CSP does not apply.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from capmap.storage import open_store
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

BAD_IMPACTS = ("serious", "critical")
NARROW = 320
# The page's scroll width, and the outermost elements sticking out past the window (for the message).
WIDEST = """() => {
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.getBoundingClientRect().right <= window.innerWidth + 1) continue;
    if (out.some(o => o.contains(e))) continue;
    out.push(e);
  }
  return {scroll: document.documentElement.scrollWidth,
          widest: out.slice(0, 5).map(e => e.outerHTML.slice(0, 120))};
}"""


def _plan_id(live_server) -> int:
    """The id of the sample's LOC-01 Locality Plan."""
    store = open_store(live_server.database_url)
    try:
        return int(store.plans().set_index("ref").loc["LOC-01", "id"])
    finally:
        store.close()


def _thanks(page, live_server) -> None:
    """The thank-you page, reached by sending a report through the form."""
    page.goto("/pins")
    page.get_by_label("Neighbourhood").select_option(index=3)
    page.get_by_role("button", name="Use this neighbourhood").click()
    page.wait_for_url("**/pins?area=*")
    page.get_by_label("What kind of problem?").select_option("litter_flytipping")
    page.get_by_label("What is the problem?").fill("Bags of rubbish dumped by the bus stop.")
    page.get_by_role("button", name="Send report").click()
    page.wait_for_url("**/pins")
    page.get_by_role("heading", name="Thank you: we have your report").wait_for()


def _lpp_step(page, live_server) -> None:
    """The register step form of the sample's LPP-04 (not registered: it may be submitted
    again)."""
    store = open_store(live_server.database_url)
    try:
        plan = store.plan_ids()["LPP-04"]
    finally:
        store.close()
    answer = page.goto(f"/lpp/plans/{plan}/register")
    assert answer is not None and answer.status == 200


def _lpp(what: str) -> Callable:
    """A step opening the sample's LPP-01 page `what` (regard or notify)."""
    def visit(page, live_server) -> None:
        """Open the page and check it answered 200."""
        store = open_store(live_server.database_url)
        try:
            plan = store.plan_ids()["LPP-01"]
        finally:
            store.close()
        answer = page.goto(f"/lpp/plans/{plan}/{what}")
        assert answer is not None and answer.status == 200
    return visit


def _visit(path: str | Callable, role: str | None = None) -> Callable:
    """A step that opens `path` (a URL, or a function that gets there), logged in with `role`."""
    def visit(page, live_server) -> None:
        """Open the page and check it answered 200."""
        if role:
            log_in(page, live_server, f"a11y-{role}", [role])
        if callable(path):
            path(page, live_server)
        else:
            target = path.format(plan=_plan_id(live_server) if "{plan}" in path else 0)
            answer = page.goto(target)
            assert answer is not None and answer.status == 200, f"{target}: {answer and answer.status}"
    return visit


PAGES = {
    "home": _visit("/"),
    "finder": _visit("/planscape"),
    "finder-result": _visit("/planscape/result?layer=sample_wards&codes=S13900004"),
    "finder-search": _visit("/planscape/search?q=kirkton"),
    "finder-choose": _visit("/planscape/choose?layer=sample_wards&code=S13900004"),
    "plan": _visit("/plans/{plan}"),
    "plan-report": _visit("/plans/{plan}/report?year=2025"),
    "plan-report-staff": _visit("/plans/{plan}/report?year=2025", "officer"),
    "pins": _visit("/pins"),
    "pins-thanks": _visit(_thanks),
    "login": _visit("/login"),
    "moderate": _visit("/moderate", "moderator"),
    "dashboard-engagement": _visit("/dashboard/engagement", "officer"),
    "dashboard-plans": _visit("/dashboard/plans", "officer"),
    "export": _visit("/export/"),
    "edit-plan": _visit("/plans/{plan}/edit", "planner"),
    "account-password": _visit("/account/password", "officer"),
    "admin-users": _visit("/admin/users", "admin"),
    "ogc-landing": _visit("/ogc?f=html"),
    "ogc-collections": _visit("/ogc/collections?f=html"),
    "lpp-index": _visit("/lpp/register"),
    "lpp-register": _visit("/lpp/register/S12900001"),
    "lpp-register-staff": _visit("/lpp/register/S12900001", "officer"),
    "lpp-step": _visit(_lpp_step, "officer"),
    "lpp-regard": _visit(_lpp("regard")),
    "lpp-notify": _visit(_lpp("notify")),
    "lpp-regard-area": _visit("/lpp/regard?layer=sample_wards&codes=S13900004"),
    "lpp-notify-area": _visit("/lpp/notify?layer=sample_wards&codes=S13900004"),
    "councillors-import": _visit("/admin/import/councillors", "officer"),
    # The same public pages in Gaelic: its longer words must fit 320 px too.
    "home-gd": _visit("/?lang=gd"),
    "finder-gd": _visit("/planscape?lang=gd"),
    "finder-result-gd": _visit("/planscape/result?layer=sample_wards&codes=S13900004&lang=gd"),
    "plan-gd": _visit("/plans/{plan}?lang=gd"),
    "pins-gd": _visit("/pins?lang=gd"),
    "edit-plan-gd": _visit("/plans/{plan}/edit?lang=gd", "planner"),
    "account-password-gd": _visit("/account/password?lang=gd", "officer"),
    "admin-users-gd": _visit("/admin/users?lang=gd", "admin"),
    "dashboard-engagement-gd": _visit("/dashboard/engagement?lang=gd", "officer"),
    "dashboard-plans-gd": _visit("/dashboard/plans?lang=gd", "officer"),
}


def _report(violations: list[dict]) -> str:
    """axe violations as readable lines, with the first few elements of each."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} [{len(v['nodes'])} nodes]")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.append(f"      {node.get('failureSummary', '').replace(chr(10), ' ')[:300]}")
    return "\n".join(lines)


# True once the page fits `narrow` pixels, or its widest element is the same over 10 frames.
SETTLED = """narrow => new Promise(resolve => {
  const width = () => Math.max(...[...document.querySelectorAll('body *')].map(e => e.scrollWidth),
                               document.documentElement.scrollWidth);
  if (document.documentElement.scrollWidth <= narrow + 1) { resolve(true); return; }
  const first = width();
  let frames = 0;
  const step = () => {
    if (width() !== first) { resolve(false); return; }
    if (++frames >= 10) { resolve(true); return; }
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})"""


@pytest.mark.parametrize("name", PAGES)
def test_no_serious_axe_violation_and_no_sideways_scroll_at_320px(name, page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    PAGES[name](page, live_server)
    page.wait_for_load_state("load")
    results = Axe().run(page).response
    bad = [v for v in results["violations"] if v["impact"] in BAD_IMPACTS]
    if results["violations"]:
        print(f"\naxe on {name} ({page.url}):\n{_report(results['violations'])}")
    assert not bad, f"axe found serious or critical violations on {name}:\n{_report(bad)}"

    page.set_viewport_size({"width": NARROW, "height": 640})
    page.wait_for_function(f"window.innerWidth === {NARROW}")
    # Maps redraw on resize after a debounce: wait for the page to fit (or, failing that, for a
    # layout that no longer changes between frames), then measure.
    page.wait_for_function(SETTLED, arg=NARROW)
    widths = page.evaluate(WIDEST)
    assert widths["scroll"] <= NARROW + 1, f"{name} scrolls sideways at {NARROW} px: {widths}"
