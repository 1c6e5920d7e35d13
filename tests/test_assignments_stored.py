"""Stored assignments: written with the records, refreshed with the layers, and the same as
PostGIS's own answer under the documented rule."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from capmap.core.models import LayerDef
from capmap.services import pipeline
from tests.conftest import X0, Y0, lonlat_of


def _corner_responses(store, tmp_path):
    """Responses exactly on shared corners of the squares, and one out at sea."""
    a = store.areas("squares")
    corners = np.unique(np.concatenate([np.asarray(g.exterior.coords)
                                        for g in a.geometry.values]), axis=0)
    sea = lonlat_of(X0 - 5000, Y0)
    rows = ["campaign,channel,lon,lat"] + [f"Corners,event,{x!r},{y!r}" for x, y in corners.tolist()]
    rows.append(f"Corners,event,{sea[0]!r},{sea[1]!r}")
    assert len(corners) == 9  # a 3 x 3 lattice of shared corners
    path = tmp_path / "corners.csv"
    path.write_text("\n".join(rows) + "\n")
    pipeline.import_responses(store, path)


def test_assignments_follow_the_rule_and_match_postgis(loaded, tmp_path):
    _corner_responses(loaded, tmp_path)
    stored = loaded.assigned_codes("responses", "squares").set_index("record_id")["code"]
    responses = loaded.responses().set_index("id")
    areas = loaded.areas("squares")
    for rid, row in responses.iterrows():
        geom = row["geom"]
        if geom is None:  # known by area code only
            assert stored[rid] == row["area_code"]
            continue
        hits = [c for c, g in zip(areas["code"], areas.geometry.values, strict=True)
                if g.intersects(geom)]
        assert stored[rid] == (min(hits) if hits else None), rid
    assert stored.isna().sum() == 1  # the point at sea
    if loaded.name == "postgis":
        query = sa.text(
            "SELECT r.id, min(a.code) FROM responses r LEFT JOIN areas a "
            "ON a.layer_id = 'squares' AND ST_Intersects(a.geom, r.geom) "
            "WHERE r.geom IS NOT NULL GROUP BY r.id ORDER BY r.id")
        with loaded.engine.connect() as conn:
            postgis = dict(conn.execute(query).all())
        assert {rid: stored[rid] for rid in postgis} == postgis


def test_a_new_layer_reassigns_every_point(loaded, squares_bng, tmp_path):
    halves = squares_bng.dissolve(by=squares_bng["code"].isin(["A", "C"])).reset_index(drop=True)
    halves["code"] = ["EAST", "WEST"]
    path = tmp_path / "halves.gpkg"
    halves.to_file(path, layer="halves", driver="GPKG")
    pipeline.import_boundaries(loaded, LayerDef(id="halves", kind="ward"), path)
    codes = loaded.assigned_codes("responses", "halves")["code"]
    # 3 in A and 6 by code in C are west; 12 in D are east.
    assert codes.value_counts().to_dict() == {"EAST": 12, "WEST": 9}
