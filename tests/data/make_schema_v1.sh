#!/usr/bin/env bash
# Makes tests/data/schema_v1.sql: a database made by capmap at schema version 1 (commit 2dd0f59,
# the last one at version 1), with a few rows imported through that version's own command line,
# dumped as SQL. Run from the repository root with the project's venv: the old code runs on
# today's libraries. tests/test_migrations.py upgrades it to the newest schema.
set -euo pipefail
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive 2dd0f59 | tar -x -C "$work"
mkdir "$work/in"
.venv/bin/python - "$work/in" <<'PY'
import json, sys
import geopandas as gpd, shapely
from capmap.core.crs import bng_to_lonlat
out = sys.argv[1]
x0, y0 = 310_000.0, 720_000.0  # four 1 km squares near Perth, A south-west, D north-east
cells = [("A", 0, 0, "Baile Àird"), ("B", 1, 0, "Square B"), ("C", 0, 1, "St. Ninian's"),
         ("D", 1, 1, "Square D")]
gpd.GeoDataFrame({"code": [c[0] for c in cells], "name": [c[3] for c in cells],
                  "pop": [500, 600, 700, 800], "council": ["S12000048"] * 4},
                 geometry=[shapely.box(x0 + i * 1000, y0 + j * 1000, x0 + i * 1000 + 1000,
                                       y0 + j * 1000 + 1000) for _, i, j, _ in cells],
                 crs="EPSG:27700").to_file(f"{out}/squares.gpkg", layer="squares", driver="GPKG")
open(f"{out}/plans.csv", "w").write(
    "ref,type,title,area_codes\nLP-AB,locality_plan,South locality,A;B\n")
open(f"{out}/actions.csv", "w").write("ref,plan_ref,title\nACT1,LP-AB,Open a hub\n")
open(f"{out}/responses.csv", "w").write(
    "campaign,channel,date,themes,easting,northing\n"
    f"C1,online,2025-01-01, Health ;;housing;,{x0 + 100},{y0 + 100}\n"
    f"C1,paper,2025-02-01,transport,{x0 + 1100},{y0 + 1100}\n")
lon, lat = bng_to_lonlat([x0 + 500, x0 + 1500], [y0 + 500, y0 + 500])
json.dump({"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
     "properties": {"category": "litter", "description": f"pin {i + 1}", "status": "published",
                    "created": "2025-03-01T12:00:00+00:00"}} for i in range(2)]},
          open(f"{out}/pins.geojson", "w"))
open(f"{out}/postcodes.csv", "w").write(
    f"postcode,easting,northing\nPH1 5AB,{x0 + 200},{y0 + 200}\nph2  7xy,{x0 + 1200},{y0 + 1200}\n")
PY
db="$work/v1.sqlite"
v1() { (cd "$work" && PYTHONPATH="$work/src" "$root/.venv/bin/python" -c \
  'import sys; from capmap.cli import main; sys.argv[0] = "capmap"; main()' --db "sqlite:///$db" "$@"); }
v1 init
v1 import boundaries in/squares.gpkg --layer squares --kind neighbourhood --vintage 2026 \
  --title Squares --licence OGL --population-field pop --parent-field council
v1 import plans in/plans.csv --area-layer squares
v1 import actions in/actions.csv
v1 import responses in/responses.csv
v1 import pins in/pins.geojson
v1 import postcodes in/postcodes.csv
.venv/bin/python - "$db" > tests/data/schema_v1.sql <<'PY'
import sqlite3, sys
for line in sqlite3.connect(sys.argv[1]).iterdump():
    print(line)
PY
