"""Golden files: overlaps and assignments compared with answers checked by hand and kept.

Regenerate with CAPMAP_REGENERATE_GOLDEN=1 after a deliberate change, and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import shapely

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.services.engine import Engine
from capmap.services.planscape import overlap_pieces, polygon_query
from tests.conftest import X0, Y0

GOLDEN = Path(__file__).parent / "data" / "golden"


def _check(name: str, collection: dict) -> None:
    path = GOLDEN / name
    if os.environ.get("CAPMAP_REGENERATE_GOLDEN"):
        path.write_text(json.dumps(collection, indent=1, sort_keys=True) + "\n")
    expected = json.loads(path.read_text())
    assert len(collection["features"]) == len(expected["features"])
    for got, want in zip(collection["features"], expected["features"], strict=True):
        for key, value in want["properties"].items():
            assert got["properties"][key] == pytest.approx(value, abs=1e-9), key
        g = shapely.geometry.shape(got["geometry"])
        w = shapely.geometry.shape(want["geometry"])
        assert g.symmetric_difference(w).area < 1e-14  # in square degrees: under 1 cm²


def test_planscape_overlaps_of_a_drawn_polygon(loaded):
    # A 1 km x 1.5 km box over the middle of the grid: half of A's width, across into B, C, D.
    box = shapely.box(X0 + 500, Y0 + 250, X0 + 1500, Y0 + 1750)
    query = polygon_query(shapely.geometry.mapping(geoms_bng_to_lonlat(np.array([box]))[0]))
    pieces = overlap_pieces(Engine(loaded), query).sort_values("ref")
    # By hand: LOIP covers the whole box (1.5 km²); LP-AB its south part, y 250..1000 (0.75 km²);
    # CAP-D (x >= 1500 in D) touches the box only along its edge: no area, so it is not listed.
    assert list(pieces["ref"]) == ["LOIP", "LP-AB"]
    assert list(pieces["overlap_km2"]) == pytest.approx([1.5, 0.75], rel=1e-6)
    _check("planscape_middle_box.geojson", json.loads(pieces.drop(columns="plan_id").to_json()))
