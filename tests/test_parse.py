"""One parser per kind of input (capmap.core.parse), and every route that takes that kind of input
taking or refusing it alike: the JSON API, the OGC API, exports, the pin map and the forms."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core import parse
from capmap.core.errors import InputError


@pytest.mark.parametrize(("raw", "expected"), [
    ("2025-01-31", date(2025, 1, 31)), (" 2024-02-29 ", date(2024, 2, 29)), ("", None), (None, None)])
def test_dates_taken(raw, expected):
    assert parse.iso_date(raw, "from") == expected


@pytest.mark.parametrize("raw", ["20250101", "2025-W01-1", "2025-02-30", "2025-1-1", "31/01/2025",
                                 "2025-01-01T00:00", "0000-01-01", "2025-01-01x"])
def test_dates_refused_naming_what_was_given_and_expected(raw):
    with pytest.raises(InputError) as caught:
        parse.iso_date(raw, "from")
    assert caught.value.status == 400
    assert f"from: {raw.strip()!r} is not a date; expected YYYY-MM-DD" in caught.value.message


def test_bboxes():
    assert parse.bbox("-3.6,56.1,-3.4,56.3") == (-3.6, 56.1, -3.4, 56.3)
    assert parse.bbox("56.1,-3.6,56.3,-3.4", swap=True) == (-3.6, 56.1, -3.4, 56.3)
    assert parse.bbox("-3.6,56.1,0,-3.4,56.3,9", heights=True) == (-3.6, 56.1, -3.4, 56.3)
    assert parse.bbox("170,50,-170,60", wrap=True) == (170, 50, -170, 60)
    for raw, words in [("1,2,3", "got 3 values"), ("a,b,c,d", "must be numbers"),
                       ("-3,56,nan,57", "finite"), ("-4,57,-3,56", "miny above maxy"),
                       ("170,50,-170,60", "minlon above maxlon"),
                       ("310000,720000,311000,721000", "out of range"),
                       ("-3.6,56.1,0,-3.4,56.3,9", "got 6 values")]:
        with pytest.raises(InputError, match=words) as caught:
            parse.bbox(raw)
        assert repr(raw) in caught.value.message  # what was given, beside what was expected


def test_numbers_points_codes_and_ids():
    assert parse.point("-3.19", " 55.95 ") == (-3.19, 55.95)
    assert parse.number("", "lon") is None
    for lon, words in [("abc", "lon must be a number, got 'abc'"), ("nan", "finite"),
                       ("", r"lon is required, e\.g\. \?lon=-3\.19")]:
        with pytest.raises(InputError, match=words):
            parse.point(lon, "56")
    assert parse.codes("A, B,,A ") == ["A", "B"]
    assert parse.codes(["A,B", "C"]) == ["A", "B", "C"] and parse.codes(None) == []
    assert parse.layer_code(" dz11 : S01 ") == ("dz11", "S01")
    with pytest.raises(InputError, match="LAYER:CODE"):
        parse.layer_code("dz11")
    assert parse.ids("3, 7", "plan") == (3, 7)
    with pytest.raises(InputError, match="plan must be ids separated by commas, e.g. 3,7; got 'x'"):
        parse.ids("x", "plan")


def test_postcodes_have_one_rule():
    assert parse.postcode("eh11aa") == "EH1 1AA" and parse.postcode(" G51  2AB ") == "G51 2AB"
    # The rule the pin form's postcode search used to have took any 5 to 7 letters and digits.
    for text in ("ABCDE", "12345", "EH1 1A", "EH1 1AAA", ""):
        assert parse.postcode(text) is None
        with pytest.raises(InputError, match="expected one like EH1 1AA"):
            parse.required_postcode(text)
    assert parse.partial_postcode("eh12") == ("district", "EH12")
    assert parse.partial_postcode("EH1 2") == ("sector", "EH1 2")


def _message(client, url: str) -> tuple[int, str]:
    with client.get(url) as answer:
        return answer.status_code, answer.get_json()["message"]


def test_a_date_is_read_alike_by_the_api_and_the_exports(client):
    # 20250101 was a 400 on /api and a 200 on /export: one rule, YYYY-MM-DD, for both.
    api = _message(client, "/api/coverage/engagement?from=20250101")
    export = _message(client, "/export/engagement.geojson?from=20250101")
    assert api == export == (400, "from: '20250101' is not a date; expected YYYY-MM-DD, e.g. "
                                  "2027-03-31")
    assert client.get("/api/coverage/engagement?from=2025-01-01").status_code == 200


def test_a_bbox_is_read_alike_by_the_exports_the_ogc_api_and_the_pin_map(client):
    for raw in ("1,2,3", "a,b,c,d", "-4,57,-3,56", "310000,720000,311000,721000"):
        # OGC API - Features also takes six numbers (with heights), and says so.
        answers = {(status, text.replace(" (or 6 with heights)", "")) for status, text in (
            _message(client, url) for url in (
                f"/export/plans.geojson?bbox={raw}", f"/ogc/collections/plans/items?bbox={raw}",
                f"/pins/data.json?bbox={raw}"))}
        assert len(answers) == 1 and next(iter(answers))[0] == 400, answers


def test_the_pin_map_and_the_finder_read_postcodes_alike(client):
    # Five letters were a postcode to the pin map's search, and not to the finder's.
    page = client.get("/pins?postcode=ABCDE")
    assert page.status_code == 400 and "expected one like EH1 1AA" in page.get_data(as_text=True)
    assert client.get("/planscape/search?q=ABCDE").status_code == 404


def test_the_command_line_reads_dates_as_the_web_does(sample_db, tmp_path):
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{sample_db}", "export", "plans", "-o",
                                      str(tmp_path / "plans.geojson"), "--from", "20250101"])
    assert result.exit_code == 1
    assert "from: '20250101' is not a date; expected YYYY-MM-DD" in result.output
