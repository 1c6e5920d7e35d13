"""Property-based fuzzing of both OpenAPI documents with schemathesis, in process over WSGI.

Every operation of the JSON API (/api/openapi.json) and of the OGC API - Features (/ogc/api), as
the app serves them over the sample data, is called with the cases of schemathesis' examples,
coverage and fuzzing phases, valid and invalid alike, under a fixed seed and derandomized, so a
run is repeatable. Each answer is held to the document: never a 5xx; status code, content type,
headers and body as documented; a 405 names the allowed methods; input the document allows is
accepted and input it forbids is refused. Two kinds of refusal of allowed input are expected: the
planscape's documented 422 for what only the data decides (a point in the sea, a code not in the
layer, a self-intersecting polygon), and the answer a document states in words for the rules a
JSON Schema cannot express (a bbox's miny above its maxy, a datetime interval or a date range that
ends before it starts, February 30th), checked here on their own.

Budget: MAX_EXAMPLES fuzzed cases per operation (valid and invalid mixed), plus the examples and
coverage phases' cases: 977 requests to the 13 operations on SQLite, and about 85 more on PostGIS.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import schemathesis
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from capmap.publish.ogc import EPSG4326, MAX_LIMIT
from capmap.services import pipeline
from capmap.storage import open_store
from tests.conftest import BOUNDARIES, SAMPLE, _postgis_or_skip, _wipe

SEED = 20260501
MAX_EXAMPLES = 25
# The PostGIS run repeats the fuzzing phase alone with a smaller budget (the coverage phase would
# triple its time): the documents are the same, only the store behind the records collections,
# the planscape's actions and pins and the engagement counts differs. It has nothing to vary in
# GET /api/coverage/plans, which takes no parameters, so leaves that one to the SQLite run.
POSTGIS_EXAMPLES = 8
# Fewer than this many requests to an operation means the fuzzer did not really reach it.
LEAST_CASES = 5


def _config(accepted: list[str], examples: int = MAX_EXAMPLES, coverage: bool = True,
            semantic: tuple[str, ...] = ()) -> schemathesis.Config:
    """The run's settings. `accepted`: the statuses with which valid input may be answered; the
    operations named in `semantic` may also answer it with 422, for rules only the data can
    decide (a point in the sea, a code not in the layer, a self-intersecting polygon)."""
    operations = [{"include-operation-id": list(semantic),
                   "checks": {"positive_data_acceptance": {"expected-statuses": [*accepted, "422"]}}}]
    return schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"max-examples": examples, "deterministic": True, "database": "none",
                       "mode": "all"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": coverage},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "checks": {"positive_data_acceptance": {"expected-statuses": accepted}},
        "operations": operations if semantic else [],
    })


def _app(url: str, folder):
    from app import create_app

    # The fuzzer sends about a thousand planscape queries from one address: far over the public
    # rate limit, which would answer most of them 429 unread (tests/test_budgets.py checks it).
    app = create_app({"TESTING": True, "DATABASE_URL": url, "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "INSTANCE_PATH": str(folder / "instance"),
                      "QUERY_RATE_LIMIT": "100000 per minute"})
    yield app
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def _json_schema(app, **settings):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=_config(
        ["2xx"], semantic=("planscape", "planscapePolygon"), **settings))


def _ogc_schema(app, **settings):
    # Read as from_wsgi would, but without naming where the document came from: schemathesis
    # leaves out the operation at that path, and /ogc/api is one of the operations to fuzz.
    answer = app.test_client().get("/ogc/api?f=json")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    schema = schemathesis.openapi.from_dict(answer.get_json(), config=_config(["2xx", "404"], **settings))
    schema.app = app
    return schema


@pytest.fixture(scope="module")
def fuzz_app(sample_db, tmp_path_factory):
    """The app on its own copy of the sample database."""
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sample_db, folder / "capmap.sqlite")
    yield from _app(f"sqlite:///{folder / 'capmap.sqlite'}", folder)


@pytest.fixture(scope="module")
def postgis_app(tmp_path_factory):
    """The app on the sample data loaded into PostGIS."""
    url = _postgis_or_skip()
    _wipe(url)
    store = open_store(url)
    store.init()
    pipeline.load_sample(store, SAMPLE, BOUNDARIES)
    store.close()
    yield from _app(url, tmp_path_factory.mktemp("fuzz_postgis"))
    _wipe(url)


@pytest.fixture(scope="module")
def json_api(fuzz_app):
    return _json_schema(fuzz_app)


@pytest.fixture(scope="module")
def ogc_api(fuzz_app):
    return _ogc_schema(fuzz_app)


@pytest.fixture(scope="module")
def json_api_postgis(postgis_app):
    return _json_schema(postgis_app, examples=POSTGIS_EXAMPLES, coverage=False)


@pytest.fixture(scope="module")
def ogc_api_postgis(postgis_app):
    return _ogc_schema(postgis_app, examples=POSTGIS_EXAMPLES, coverage=False)


def _tally(schema):
    """A counter of requests per operation; afterwards, every operation must have had its share."""
    counts: Counter = Counter()
    yield counts
    labels = [op.ok().label for op in schema.get_all_operations()]
    short = {label: counts[label] for label in labels if counts[label] < LEAST_CASES}
    assert not short, f"operations fuzzed with fewer than {LEAST_CASES} requests: {short}"


@pytest.fixture(scope="module")
def json_tally(json_api):
    yield from _tally(json_api)


@pytest.fixture(scope="module")
def ogc_tally(ogc_api):
    yield from _tally(ogc_api)


@pytest.fixture(autouse=True)
def _node_id(request):
    # schemathesis' fixture-based loader reads Node._nodeid, which pytest 9.2 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# -- the rules a JSON Schema cannot state, as each parameter's description states them ----------

def _utc(text: str, end: bool) -> datetime:
    """An RFC 3339 date or date-time as a UTC instant (a date: its first or last microsecond)."""
    moment = datetime.fromisoformat(text.upper().replace(" ", "T"))
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if len(text) == 10 and end:
        moment += timedelta(days=1, microseconds=-1)
    return moment


def _bad_datetime(value: str) -> str | None:
    parts = value.split("/")
    try:
        if len(parts) == 1:
            _utc(value, False), _utc(value, True)
            return None
        low, high = (None if p in ("", "..") else _utc(p, i == 1) for i, p in enumerate(parts))
    except (ValueError, OverflowError) as exc:
        return f"datetime {value!r} is not a real instant in years 1 to 9999 ({exc})"
    if low is not None and high is not None and low > high:
        return f"datetime {value!r} ends before it starts"
    return None


def _bad_bbox(values: list[float], lat_first: bool) -> str | None:
    minx, miny, maxx, maxy = values if len(values) == 4 else values[:2] + values[3:5]
    if lat_first:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if not all(-180 <= x <= 180 for x in (minx, maxx)) or not all(-90 <= y <= 90 for y in (miny, maxy)):
        return f"bbox {values} is out of range"
    return f"bbox {values} has miny above maxy" if miny > maxy else None


def _reversed_dates(query: dict) -> str | None:
    try:
        low, high = (date.fromisoformat(str(query.get(k))) for k in ("from", "to"))
    except ValueError:  # absent or empty: no limit
        return None
    return f"from {low} is after to {high}" if low > high else None


def broken_rule(case) -> tuple[int, str] | None:
    """The status and reason with which a valid-by-schema request is refused for a rule its
    document states in words, or None."""
    query = case.query or {}
    if case.operation.path == "/api/coverage/engagement":
        reason = _reversed_dates(query)
        return (422, reason) if reason else None
    if case.operation.path != "/collections/{collectionId}/items":
        return None
    if isinstance(query.get("datetime"), str) and (reason := _bad_datetime(query["datetime"])):
        return 400, reason
    bbox = query.get("bbox")
    try:  # a list of numbers, or already written out as the query string has it
        values = [float(v) for v in (bbox.split(",") if isinstance(bbox, str) else bbox)]
    except (TypeError, ValueError):
        return None
    reason = _bad_bbox(values, query.get("bbox-crs") == EPSG4326) if len(values) in (4, 6) else None
    return (400, reason) if reason else None


def _over_limit(case) -> bool:
    """Whether the case asks for a page above the documented maximum, which OGC API - Features
    serves as the maximum rather than refusing."""
    limit = str((case.query or {}).get("limit"))
    return limit.isascii() and limit.isdigit() and int(limit) > MAX_LIMIT


# Schemathesis's WSGI transport advertises gzip (requests' default headers) but hands the body on
# undecoded; the answers that gzip are checked compressed in tests/test_tiles_http.py.
PLAIN = {"Accept-Encoding": "identity"}


def check(case) -> None:
    """Send the case and hold the answer to the document."""
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    rule = broken_rule(case) if positive else None
    if rule is not None:
        status, reason = rule
        response = case.call(headers=PLAIN)
        case.validate_response(response, excluded_checks=[positive_data_acceptance])
        assert response.status_code == status, f"{reason}: expected {status}, got {response.status_code}"
    elif not positive and _over_limit(case):
        response = case.call(headers=PLAIN)
        case.validate_response(response, excluded_checks=[negative_data_rejection])
        if response.status_code == 200:
            assert response.json()["numberReturned"] <= MAX_LIMIT
    else:
        case.call_and_validate(headers=PLAIN)


@schemathesis.pytest.from_fixture("json_api").parametrize()
def test_json_api_keeps_to_its_document(case, json_tally):
    json_tally[case.operation.label] += 1
    check(case)


@schemathesis.pytest.from_fixture("ogc_api").parametrize()
def test_ogc_api_keeps_to_its_document(case, ogc_tally):
    ogc_tally[case.operation.label] += 1
    check(case)


@pytest.mark.postgis
@schemathesis.pytest.from_fixture("json_api_postgis").parametrize()
def test_json_api_keeps_to_its_document_on_postgis(case):
    check(case)


@pytest.mark.postgis
@schemathesis.pytest.from_fixture("ogc_api_postgis").parametrize()
def test_ogc_api_keeps_to_its_document_on_postgis(case):
    check(case)


def test_rules_in_words():
    """The rule checks above, on cases worked out by hand."""
    assert _bad_datetime("2024-02-29") is None and _bad_datetime("2023-02-29") is not None
    assert _bad_datetime("2024-01-01/..") is None and _bad_datetime("../2024-01-01T00:00:00Z") is None
    assert "ends before" in _bad_datetime("2024-01-02/2024-01-01")
    assert _bad_datetime("2024-01-01/2024-01-01") is None
    assert _bad_datetime("2024-01-01T00:30:00+01:00/2023-12-31") is None  # 23:30 on the 31st
    assert "years 1 to 9999" in _bad_datetime("0001-01-01T00:00:00+01:00")
    assert _bad_bbox([170, 50, -170, 60], False) is None  # spans the antimeridian
    assert "miny above maxy" in _bad_bbox([0, 60, 1, 50], False)
    assert "out of range" in _bad_bbox([0, 100, 1, 100], False)
    assert _bad_bbox([100, 0, 100, 1], True) is not None and _bad_bbox([0, 100, 1, 100], True) is None
    assert _reversed_dates({"from": "2025-02-01", "to": "2025-01-31"}) is not None
    assert _reversed_dates({"from": "2025-02-01", "to": "2025-02-01"}) is None
    assert _reversed_dates({"from": "2025-02-01", "to": ""}) is None and _reversed_dates({}) is None
