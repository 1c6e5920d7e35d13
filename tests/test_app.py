"""The app shell: the overview of the sample, served with local assets only."""

from __future__ import annotations

import re

from capmap.storage import open_store


def test_home_shows_the_sample_map_and_plans(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "The planscape" in html
    assert "Glenarden" in html  # the fictional council
    assert "Locality Plan" in html and "data-map=" in html


def test_every_script_and_stylesheet_is_served_locally(client):
    html = client.get("/").get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources, "expected script and stylesheet tags"
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by capmap"
        with client.get(source) as answer:
            assert answer.status_code == 200, source
    assert "cdn" not in html.lower() and "tile.openstreetmap" not in html


def test_vendor_route_refuses_other_files(client):
    for url in ("/vendor/leaflet/../../../../etc/passwd", "/vendor/nope/x.js"):
        with client.get(url) as answer:
            assert answer.status_code == 404


def test_plan_text_is_escaped_in_the_map_and_table(app, client):
    store = open_store(app.config["DATABASE_URL"])
    plans = store.plans()
    first = plans.iloc[[0]].copy()
    first["ref"], first["title"] = "XSS-1", '<img src=x onerror="alert(1)">'
    store.put_plans(first.drop(columns="id"))
    store.close()
    html = client.get("/").get_data(as_text=True)
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;img src=x onerror=" in html


def test_health_reports_the_data_version(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["data_version"] > 0


def test_unknown_page_is_a_404_page(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Not Found" in page.get_data(as_text=True)


def test_only_the_apps_script_files_run(client):
    answer = client.get("/")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    html = answer.get_data(as_text=True)
    assert re.findall(r"<script\b[^>]*\bsrc=", html), "the map page loads its scripts"
    assert not re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html), "no inline script"
    assert answer.headers["X-Frame-Options"] == "DENY"
