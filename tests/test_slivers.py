"""Plans that only touch a query's edge, on hand-made squares, on both backends and over the web.

The grid of conftest is four 1 km squares, (X0, Y0) to (X0 + 2000, Y0 + 2000) in EPSG:27700. Three
drawn plans lie east of it and reach back over its east edge (x = X0 + 2000):
- EDGE, 4 km x 3 km from x = X0 + 1990, y = Y0 + 500: over the grid it is a 10 m x 1,500 m strip,
  15,000 m²: 0.375 % of the 4 km² grid, 0.125 % of its own 12 km², 10 m wide. A sliver under the
  default tolerance (0.5 %, 100 m).
- CORNER, 2 km x 2 km from (X0 + 1880, Y0 + 1880): over the grid a 120 m x 120 m corner,
  14,400 m² (0.36 % of the grid and of the plan) but 120 m wide: it covers the corner.
- The same EDGE strip against a tiny query, 100/3 m x 100 m at the east edge: the 10 m x 100 m
  overlap is 30 % of that query, so EDGE covers it.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import shapely

from app import create_app
from capmap.core.crs import geoms_bng_to_lonlat
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.planscape import codes_query, overlap_pieces, planscape, polygon_query
from capmap.spatial.slivers import SliverTolerance, edge_only, widths
from tests.conftest import X0, Y0

EDGE = shapely.box(X0 + 1990, Y0 + 500, X0 + 5990, Y0 + 3500)
CORNER = shapely.box(X0 + 1880, Y0 + 1880, X0 + 3880, Y0 + 3880)


@pytest.fixture
def edged(loaded, tmp_path):
    """The squares store with the EDGE and CORNER plans added."""
    shapes = geoms_bng_to_lonlat(np.array([EDGE, CORNER]))
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                 "properties": {"ref": ref, "type": "service_plan", "title": title}}
                for geom, ref, title in zip(shapes, ["EDGE", "CORNER"],
                                            ["Next council's plan", "Corner plan"], strict=True)]
    path = tmp_path / "edge.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    pipeline.import_plans(loaded, path, PlanFields())
    return loaded


def _lonlat_query(box: shapely.Polygon):
    return polygon_query(shapely.geometry.mapping(geoms_bng_to_lonlat(np.array([box]))[0]))


def test_width_is_the_short_side_of_a_strip_or_a_square():
    strip, square = shapely.box(0, 0, 1500, 10), shapely.box(0, 0, 60, 60)
    # Two such strips: A = 30,000, P = 6,040, so (3,020 - sqrt(3,020² - 120,000)) / 2 = 9.967 m,
    # a little under 10 as the four ends count as perimeter.
    two_strips = shapely.union(strip, shapely.box(0, 100, 1500, 110))
    assert widths(np.array([strip, square, two_strips, shapely.Polygon()])) == pytest.approx(
        [10.0, 60.0, 9.9667, 0.0], abs=1e-4)


def test_all_three_limits_must_hold():
    rule = SliverTolerance(max_share=0.005, max_width_m=50)  # not the defaults: stated here
    # share of query, share of plan, width: only the first row is under all three.
    flags = edge_only([0.004, 0.3, 0.004, 0.004], [0.001, 0.001, 0.2, 0.001], [10, 10, 10, 60],
                      rule)
    assert flags.tolist() == [True, False, False, False]


@pytest.mark.parametrize("bad", [{"max_share": 1.5}, {"max_share": -0.1}, {"max_width_m": -1}])
def test_a_tolerance_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="expected"):
        SliverTolerance(**bad)


def test_a_ten_metre_strip_along_the_edge_is_listed_apart(edged):
    engine = Engine(edged)
    result = planscape(engine, edged, codes_query(engine, "squares", ["A", "B", "C", "D"]))
    assert [p["ref"] for p in result["edge_plans"]] == ["EDGE"]
    assert "EDGE" not in {p["ref"] for p in result["plans"]}
    assert {p["ref"] for p in result["plans"]} == {"LOIP", "LP-AB", "CAP-D", "CORNER"}
    edge = result["edge_plans"][0]
    assert edge["edge_only"] is True
    assert edge["share_of_query"] == pytest.approx(15_000 / 4e6, rel=1e-3)
    # Shares shown are of land, the part inside the squares layer: the plan's only land is the
    # strip, so all of its land is in the query. The edge rule judges whole areas (0.125 %).
    assert edge["share_of_plan"] == pytest.approx(1.0)
    assert edge["overlap_width_m"] == pytest.approx(10.0, abs=0.1)
    corner = next(p for p in result["plans"] if p["ref"] == "CORNER")
    assert corner["edge_only"] is False and corner["overlap_width_m"] == pytest.approx(120, abs=0.1)
    assert corner["share_of_query"] == pytest.approx(0.0036, rel=1e-3)
    assert corner["share_of_plan"] == pytest.approx(1.0)  # its only land, as EDGE's
    assert result["edge_tolerance"] == {"max_share": 0.005, "max_width_m": 100.0}


def test_the_same_strip_is_thirty_percent_of_a_tiny_query(edged):
    tiny = shapely.box(X0 + 2000 - 100 / 3, Y0 + 1000, X0 + 2000, Y0 + 1100)
    result = planscape(Engine(edged), edged, _lonlat_query(tiny))
    assert result["edge_plans"] == []
    edge = next(p for p in result["plans"] if p["ref"] == "EDGE")
    assert edge["share_of_query"] == pytest.approx(0.3, rel=1e-3)


def test_a_wider_tolerance_takes_the_corner_too(edged):
    engine = Engine(edged)
    query = codes_query(engine, "squares", ["A", "B", "C", "D"])
    result = planscape(engine, edged, query, SliverTolerance(max_width_m=150))
    assert sorted(p["ref"] for p in result["edge_plans"]) == ["CORNER", "EDGE"]
    assert result["edge_tolerance"]["max_width_m"] == 150


def test_the_overlaps_file_marks_the_sliver(edged):
    engine = Engine(edged)
    frame = overlap_pieces(engine, codes_query(engine, "squares", ["A", "B", "C", "D"]))
    flags = dict(zip(frame["ref"], frame["edge_only"], strict=True))
    assert flags == {"LOIP": False, "LP-AB": False, "CAP-D": False, "CORNER": False, "EDGE": True}
    width = dict(zip(frame["ref"], frame["overlap_width_m"], strict=True))
    assert width["EDGE"] == pytest.approx(10.0, abs=0.1)


@pytest.fixture
def web(edged):
    app = create_app({"TESTING": True, "DATABASE_URL": edged.url, "TILES_URL": "",
                      "SECRET_KEY": "test", "QUERY_RATE_LIMIT": "100000 per minute"})
    yield app.test_client()
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def test_page_json_and_csv_set_the_sliver_apart(web):
    body = web.get("/api/planscape?layer=squares&codes=A,B,C,D").get_json()
    assert [p["ref"] for p in body["edge_plans"]] == ["EDGE"]
    page = web.get("/planscape/result?layer=squares&codes=A,B,C,D").get_data(as_text=True)
    assert "Touching the edge only" in page
    edge_table = page.split('<table class="edge-plans">')[1].split("</table>")[0]
    assert "Next council&#39;s plan" in edge_table and "0.38 %" in edge_table
    assert "10.0 m" in edge_table and "below 0.5% of the area asked about" in page
    plans_table = page.split('<table class="plans">')[1].split("</table>")[0]
    assert "Next council" not in plans_table and "Corner plan" in plans_table
    text = web.get("/planscape/result?layer=squares&codes=A,B,C,D&format=csv").get_data(as_text=True)
    rows = {r["ref"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows["EDGE"]["edge_only"] == "True" and rows["LOIP"]["edge_only"] == "False"
    assert float(rows["EDGE"]["overlap_width_m"]) == pytest.approx(10.0, abs=0.1)
    overlaps = web.get("/planscape/result?layer=squares&codes=A,B,C,D&format=geojson").get_json()
    notes = " ".join(overlaps["metadata"]["notes"])
    assert "narrower than 100 m" in notes


def test_the_settings_change_the_tolerance(edged):
    app = create_app({"TESTING": True, "DATABASE_URL": edged.url, "TILES_URL": "",
                      "SECRET_KEY": "test", "SLIVER_MAX_WIDTH_M": 5})
    body = app.test_client().get("/api/planscape?layer=squares&codes=A,B,C,D").get_json()
    app.extensions["capmap_store"].close()
    assert body["edge_plans"] == [] and body["edge_tolerance"]["max_width_m"] == 5
