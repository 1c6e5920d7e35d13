"""Differencing attacks on the public engagement figures (GET /api/coverage/engagement): each
subtracts or combines public answers to reach a count the suppression hides. Each test makes the
attacker's guess and also lists every set of exact counts consistent with all the answers it
asked for (brute force over small ranges): the hidden count must stay undetermined.

Squares (tests/conftest.py `loaded`): A pop 500, B 600, C 700, D 800, one council; the fixture's
responses are 3 in A (January), 12 paper in D (1 February), 6 in C (1 March). The tests add
responses in B (from April) and D (June), in windows of their own.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from capmap.services import pipeline
from tests.conftest import X0, Y0

B_SPOT = (X0 + 1500, Y0 + 500)
D_SPOT = (X0 + 1500, Y0 + 1500)


def _add(store, tmp_path, rows: list[tuple[str, str, tuple[float, float]]]) -> None:
    """Responses (date, channel, BNG spot)."""
    path = tmp_path / f"more-{len(rows)}.csv"
    lines = ["campaign,channel,date,themes,easting,northing,area_code"]
    lines += [f"C9,{channel},{day},health,{x},{y}," for day, channel, (x, y) in rows]
    path.write_text("\n".join(lines) + "\n")
    assert pipeline.import_responses(store, path).stored == len(rows)


@pytest.fixture
def public(loaded, tmp_path):
    """`ask(query) -> {code: responses}` on the public API over the loaded squares."""
    from app import create_app

    _add(loaded, tmp_path, [("2025-04-10", "online", B_SPOT)] * 5      # April: 5 in B
         + [("2025-05-10", "online", B_SPOT)] * 2                      # May: 2 in B
         + [("2025-06-01", "street_stall", D_SPOT)] * 2                # June: 2 street in D
         + [(f"2025-07-0{d}", "online", B_SPOT) for d in range(1, 8)])  # one a day, 1-7 July
    app = create_app({"TESTING": True, "DATABASE_URL": loaded.url, "TILES_URL": "",
                      "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path / "instance")})
    client = app.test_client()

    def ask(query: str) -> dict:
        answer = client.get(f"/api/coverage/engagement?layer=squares&{query}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        return {r["code"]: r["responses"] for r in body["areas"]} | {"*": body["responses"]}

    yield ask
    app.extensions["capmap_store"].close()


def _fits(shown, count: np.ndarray) -> np.ndarray:
    """Which exact counts give the published value `shown` (a hidden "<5": 0 to 4; a number:
    counts of 5 or more rounding to it, as capmap.spatial.disclosure publishes)."""
    if isinstance(shown, str):
        return count < int(shown[1:])
    return (count >= 5) & (5 * np.floor(count / 5 + 0.5) == shown)


def _possible(cells: int, top: int, asked: list[tuple[tuple[int, ...], object]],
              target: tuple[int, ...]) -> set[int]:
    """Every value the sum of the `target` cells can take over all worlds of `cells` counts
    (0..top each) that give every (cells summed, answer) in `asked`."""
    worlds = np.array(list(itertools.product(range(top + 1), repeat=cells)))
    keep = np.ones(len(worlds), dtype=bool)
    for summed, shown in asked:
        keep &= _fits(shown, worlds[:, list(summed)].sum(axis=1))
    return set(worlds[keep][:, list(target)].sum(axis=1).tolist())


def test_two_date_windows_do_not_give_the_month_between(public):
    # Before: April 5 and April-May 7, so May = 7 - 5 = 2, though May alone showed "<5".
    april = public("from=2025-04-01&to=2025-04-30")["B"]
    both = public("from=2025-04-01&to=2025-05-31")["B"]
    may = public("from=2025-05-01&to=2025-05-31")["B"]
    assert may == "<5"
    assert both - april != 2
    # Cells: April, May (0..15 each). May stays anything from 0 to 2.
    assert _possible(2, 15, [((0,), april), ((0, 1), both), ((1,), may)], (1,)) == {0, 1, 2}


def test_a_channel_and_all_channels_do_not_give_the_other_channel(public):
    # Before: all of D 14 minus its paper 12 gave its 2 street responses, shown "<5" alone.
    every = public("")["D"]
    paper = public("channel=paper")["D"]
    street = public("channel=street_stall")["D"]
    assert street == "<5" and every - paper != 2
    # Cells: paper, street (0..20 each). All 15 (13-17) over paper 10 (8-12): street 1 to 4.
    assert _possible(2, 20, [((0, 1), every), ((0,), paper), ((1,), street)], (1,)) == {1, 2, 3, 4}


def test_single_days_under_a_week_do_not_give_each_day(public):
    # Before: each of seven days showed "<5" (so at least 1, as a zero showed 0) and the week 7:
    # every day exactly 1.
    days = [public(f"from=2025-07-0{d}&to=2025-07-0{d}")["B"] for d in range(1, 8)]
    week = public("from=2025-07-01&to=2025-07-07")["B"]
    assert days == ["<5"] * 7
    asked = [((d,), shown) for d, shown in enumerate(days)] + [(tuple(range(7)), week)]
    assert _possible(7, 4, asked, (0,)) == set(range(5))  # the first day: anything 0 to 4


def test_the_total_does_not_give_the_hidden_areas(public):
    # Before: the January-March total 21 minus C's 6 and D's 12 gave A and B together: 3.
    shown = public("from=2025-01-01&to=2025-03-31")
    assert (shown["A"], shown["B"]) == ("<5", "<5")
    assert shown["*"] - shown["C"] - shown["D"] != 3
    # Cells A, B, C, D (0..14 each); A + B stays anything from 0 to 8.
    asked = [((0,), shown["A"]), ((1,), shown["B"]), ((2,), shown["C"]), ((3,), shown["D"]),
             ((0, 1, 2, 3), shown["*"])]
    assert _possible(4, 14, asked, (0, 1)) == set(range(9))
