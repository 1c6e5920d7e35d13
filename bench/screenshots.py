"""Screenshots of capmap's main pages over the fictional sample data, for the README.

Serves capmap on 127.0.0.1 over a temporary copy of the sample data (no basemap tiles: nothing is
fetched from outside), opens each page in headless Debian Chromium at 1200 x 800 and saves a PNG
into docs/screenshots/, squeezed with pngquant and optipng when they are installed.

    .venv/bin/python bench/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from common import chromium, quiet_werkzeug, serving

from capmap.core.passwords import hash_password
from capmap.services import pipeline
from capmap.storage import open_store

ROOT = Path(__file__).resolve().parents[1]
SIZE = {"width": 1200, "height": 800}
OFFICER, PASSWORD = "screenshot-officer", "a screenshot password that is long enough"
# (file name, path, element to scroll to the top or None, needs the officer's login)
PAGES = [
    ("home-map.png", "/", None, False),
    ("planscape-finder.png", "/planscape", "#map-section", False),
    ("planscape-result.png", "/planscape/result?layer=sample_wards&codes=S13900004", None, False),
    ("plan-page.png", "/plans/{plan}", None, False),
    ("pins-map.png", "/pins", None, False),
    ("engagement-dashboard.png", "/dashboard/engagement", "h1", True),
]


def sample_store(folder: Path) -> tuple[str, int]:
    """A SQLite store with the sample data and an officer; its URL and the LOC-01 plan's id."""
    url = f"sqlite:///{folder / 'capmap.sqlite'}"
    store = open_store(url)
    try:
        store.init()
        pipeline.load_sample(store, ROOT / "sample_geodata", ROOT / "boundaries")
        store.add_user(OFFICER, hash_password(PASSWORD), ["officer"])
        plan = int(store.plans().set_index("ref").loc["LOC-01", "id"])
    finally:
        store.close()
    return url, plan


def squeeze(path: Path) -> None:
    """Shrink a PNG in place with pngquant (lossy palette) and optipng (lossless), if present."""
    if shutil.which("pngquant"):
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality=70-95",
                        "--output", str(path), str(path)], check=False)
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(path)], check=False)


def main() -> None:
    """Save the screenshots and print their names and sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    quiet_werkzeug()
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="capmap-shots-") as tmp:
        url, plan = sample_store(Path(tmp))
        app = create_app({"DATABASE_URL": url, "TILES_URL": "", "INSTANCE_PATH": str(Path(tmp) / "instance")})
        with serving(app) as base, chromium() as browser:
            context = browser.new_context(base_url=base, viewport=SIZE)
            page = context.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                       else route.abort())
            for name, path, anchor, staff in PAGES:
                if staff and not page.get_by_role("button", name=f"Log out {OFFICER}").count():
                    page.goto("/login")
                    page.get_by_label("Username").fill(OFFICER)
                    page.get_by_label("Password").fill(PASSWORD)
                    with page.expect_navigation():
                        page.get_by_role("button", name="Log in").click()
                page.goto(path.format(plan=plan), wait_until="networkidle")
                if anchor:
                    page.locator(anchor).first.evaluate("e => e.scrollIntoView()")
                page.wait_for_function("() => [...document.querySelectorAll('[data-map]')]"
                                       ".every(h => h.dataset.loaded)")
                target = args.out / name
                page.screenshot(path=target)
                squeeze(target)
                print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
                      f"{target.stat().st_size / 1024:.0f} KiB")
            context.close()


if __name__ == "__main__":
    main()
