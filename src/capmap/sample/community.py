"""Community councils and councillors of the sample council.

Community council areas are contiguous groups of neighbourhoods that follow no ward boundary,
as real ones (drawn by each council's scheme) do not; together they cover the council exactly.
Each ward has three or four councillors (Scotland's multi-member wards), with fictional names,
parties and addresses at example.org.
"""

from __future__ import annotations

import numpy as np
import shapely

from capmap.sample.areas import COUNCIL_CODE, Geography, _group, _name_groups, _reading_order, _unions
from capmap.sample.geo import centroids

N_COMMUNITY_COUNCILS = 24
COMMUNITY_PREFIX = "CC9"  # not a GSS code: community councils have none
COUNCILLOR_COLUMNS = ("ward_code", "name", "party", "email")
FIRST = ("Aileen", "Alasdair", "Morag", "Callum", "Isla", "Fraser", "Catriona", "Ewan", "Kirsty",
         "Hamish", "Mhairi", "Ruaridh", "Shona", "Struan", "Eilidh", "Lachlan", "Fiona", "Gregor")
LAST = ("Buchanan", "Drummond", "Ferguson", "Galbraith", "Kennedy", "Lindsay", "MacAulay",
        "McKenzie", "Munro", "Ogilvie", "Rennie", "Sinclair", "Urquhart", "Wallace", "Baird",
        "Cochrane", "Dalgleish", "Imrie")
PARTIES = ("Glen Alliance", "Community First", "Independent", "Heritage Party", "Green Valley")


def build_community_councils(rng: np.random.Generator, geo: Geography
                             ) -> list[tuple[dict, shapely.Polygon]]:
    """(properties, polygon in EPSG:27700) of each community council, in reading order."""
    labels = _group(rng, geo.cells, geo.adj, np.ones(len(geo.cells)), N_COMMUNITY_COUNCILS,
                    None)
    polys = _unions(geo.cells, labels, N_COMMUNITY_COUNCILS)
    order = _reading_order(centroids(polys))
    polys = [polys[i] for i in order]
    names, _ = _name_groups(centroids(polys))
    return [({"code": f"{COMMUNITY_PREFIX}{k + 1:05d}", "name": f"{name} Community Council",
              "council_code": COUNCIL_CODE}, poly)
            for k, (name, poly) in enumerate(zip(names, polys, strict=True))]


def build_councillors(rng: np.random.Generator, geo: Geography) -> list[list[str]]:
    """Rows of councillors.csv: three or four per ward, each name used once."""
    pairs = [(f, s) for f in FIRST for s in LAST]
    picks = iter(rng.permutation(len(pairs)).tolist())
    rows = []
    for code in geo.ward_codes:
        for _ in range(int(rng.integers(3, 5))):
            first, last = pairs[next(picks)]
            email = f"{first}.{last}@glenarden.example.org".lower()
            rows.append([code, f"{first} {last}", PARTIES[int(rng.integers(len(PARTIES)))],
                         email])
    return rows
