"""What one anonymous planscape query may cost, checked before any overlay.

A query polygon is cut against every plan and every area it meets; the cost grows with its
vertices and, faster, with its rings (each hole is cut against every area around it) and parts.
These budgets keep the worst accepted polygon well under a second of work on the national data
zones (bench/bench_attacks.py measures it); a person drawing or uploading their area is nowhere
near them. JSON is measured before it is parsed: Python's parser recurses once per nesting level.
"""

from __future__ import annotations

import re

import numpy as np
import shapely

from capmap.core.errors import InputError, TooLarge, ValidationError

MAX_QUERY_BYTES = 4 * 1024 * 1024  # a 20,000-vertex polygon as GeoJSON is under 1 MB
# GeoJSON needs 6 levels for a MultiPolygon Feature ({ geometry { [ [ [ [x, y] ] ] ] } }).
MAX_JSON_DEPTH = 16
MAX_VERTICES = 20_000
MAX_RINGS = 500  # outer rings and holes together
# Scotland's council boundaries have up to 286 parts and 305 rings (islands, lochs): all fit.
MAX_PARTS = 400

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def check_json_text(text: str | bytes, what: str = "the body") -> None:
    """Refuse JSON text over MAX_QUERY_BYTES or nested deeper than MAX_JSON_DEPTH, without
    parsing it (so a 100,000-deep array never reaches the recursive parser)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if len(data) > MAX_QUERY_BYTES:
        raise TooLarge(f"{what} is {len(data):,} bytes; at most {MAX_QUERY_BYTES:,} are accepted")
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"{what} is JSON nested {depth:,} levels deep; at most {MAX_JSON_DEPTH} "
                         "are accepted (a GeoJSON polygon needs 6)")


def json_depth(data: bytes) -> int:
    """The deepest nesting of [ and { in JSON text, brackets inside strings not counted."""
    bare = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    steps = (np.isin(bare, (ord("["), ord("{"))).astype(np.int32)
             - np.isin(bare, (ord("]"), ord("}"))).astype(np.int32))
    return int(np.cumsum(steps).max(initial=0))


def check_geometry(geometry: shapely.Geometry, what: str = "the polygon") -> None:
    """Refuse a query geometry over the vertex, ring or part budget, naming the count."""
    parts = shapely.get_parts(geometry)
    counts = {
        "parts": (len(parts), MAX_PARTS),
        "rings": (len(parts) + int(shapely.get_num_interior_rings(parts).sum()), MAX_RINGS),
        "vertices": (int(shapely.get_num_coordinates(geometry)), MAX_VERTICES),
    }
    for name, (count, limit) in counts.items():
        if count > limit:
            raise ValidationError(f"{what} has {count:,} {name}; at most {limit:,} are accepted")
