"""A national capmap database for benchmarks: the real Scottish layers, about 200 plans, 500
actions, 100,000 pins and generated responses, built through capmap's own import pipeline on SQLite
or PostGIS and cached between runs.

Generated files go to a cache folder under /tmp (never the repository); each database is keyed by
a hash of the builder's parameters, so a re-run of the queries does not rebuild. Responses are
imported with `capmap import responses` in a subprocess, timed with its peak memory: that import is
itself a benchmark row.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from common import REALDATA
from national_data import BuildParams, write_base_files, write_responses

from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.layers import load_layer_def
from capmap.storage import open_store
from capmap.storage.schema import SCHEMA_VERSION, metadata

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path("/tmp/capmap_bench_national")
BUILDER_VERSION = 1
LAYERS = {"dz11": "dz11.toml", "council": "council19.toml", "wards22": "wards22.toml",
          "hscp_localities": "hscp_localities.toml"}
NEEDED = ("datazones_2011_scotland.geojson", "council_areas_scotland.geojson",
          "wards_2022_scotland_ons2022_bsc.geojson", "localities_hscp_phs2020.geojson")


def realdata_present() -> bool:
    """Whether every real-data file the builder reads is there; says which is missing if not."""
    missing = [name for name in NEEDED if not (REALDATA / name).exists()]
    if missing:
        print(f"skipped: {REALDATA} lacks {', '.join(missing)} (real boundary data is not part "
              "of capmap)")
    return not missing


def params_key(params: BuildParams) -> str:
    """A short hash of everything that shapes the built data (not the response count)."""
    stamp = {name: (REALDATA / name).stat().st_size for name in NEEDED}
    text = json.dumps({"params": asdict(params), "builder": BUILDER_VERSION,
                       "schema": SCHEMA_VERSION, "files": stamp}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


# What --rebuild has already rebuilt in this process (shared by every size).
_REBUILT: set[str] = set()


@dataclass
class Built:
    """One built database: its URL, the size, the responses CSV, and the build's timings."""

    backend: str
    url: str
    size: int
    responses_csv: Path
    built_now: bool
    timings: dict


def pg_url(base: str, schema: str) -> str:
    """A PostGIS URL whose connections use `schema` first (then public, where PostGIS lives)."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema},public"


def _pg_admin(base: str) -> sa.Engine:
    return sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1),
                            poolclass=sa.pool.NullPool)


def reset_schema(base: str, schema: str) -> None:
    """Drop and recreate one schema of the benchmark database (schema names are ours, checked)."""
    if not schema.replace("_", "").isalnum():
        raise ValueError(f"bad schema name {schema!r}")
    with _pg_admin(base).begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # fixed, checked name
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")


def load_base(url: str, folder: Path, params: BuildParams) -> dict:
    """Layers, plans, actions and pins through capmap's pipeline; seconds per step."""

    store = open_store(url)
    store.init()
    timings = {}
    try:
        for layer_id, toml in LAYERS.items():
            layer = load_layer_def(ROOT / "boundaries" / toml)
            start = time.perf_counter()
            pipeline.import_boundaries(store, layer, REALDATA / Path(layer.source).name)
            timings[f"import boundaries {layer_id}"] = time.perf_counter() - start
        steps = [("import plans (council polygons)", lambda: pipeline.import_plans(
                     store, folder / "plans_loip.geojson", PlanFields())),
                 ("import plans (by codes)", lambda: pipeline.import_plans(
                     store, folder / "plans_by_codes.csv", PlanFields(), area_layer="dz11")),
                 ("import plans (drawn)", lambda: pipeline.import_plans(
                     store, folder / "plans_drawn.geojson", PlanFields())),
                 ("import actions", lambda: pipeline.import_actions(store, folder / "actions.csv")),
                 ("import pins", lambda: pipeline.import_pins(
                     store, folder / "pins.csv"))]
        for label, step in steps:
            start = time.perf_counter()
            report = step()
            if report.rejected:
                raise RuntimeError(f"{label}: rejected {report.rejected[:3]}")
            timings[label] = time.perf_counter() - start
    finally:
        store.close()
    return timings


def run_measured(command: list[str], log: Path) -> tuple[float, float]:
    """Run a command: wall seconds and its peak memory in MB (GNU time's maximum resident set;
    a forked child's own ru_maxrss would include the parent's pages from before its exec)."""
    peak_file = log.with_suffix(".peak")
    timer = ["/usr/bin/time", "-f", "%M", "-o", str(peak_file)] if Path("/usr/bin/time").exists() \
        else []
    start = time.perf_counter()
    with open(log, "wb") as err:
        proc = subprocess.Popen(timer + command, stdout=err, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command[:6])} failed:\n{log.read_text()[-2000:]}")
    peak_kb = float(peak_file.read_text().split()[-1]) if timer else usage.ru_maxrss
    return seconds, peak_kb / 1024


def cli_import(url: str, csv: Path, log: Path) -> tuple[float, float]:
    """`capmap import responses` in a subprocess: wall seconds and peak memory in MB."""
    return run_measured([sys.executable, "-c", "from capmap.cli import main; main()", "--db", url,
                         "import", "responses", str(csv)], log)


def clear_responses(url: str) -> None:
    """Remove every response and its assignments, so an import starts from the base data."""
    store = open_store(url)
    try:
        with store.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM assignments WHERE record = 'responses'"))
            conn.execute(sa.text("DELETE FROM responses"))
    finally:
        store.close()


def _wipe(url: str) -> None:
    store = open_store(url)
    with store.engine.begin() as conn:
        metadata.drop_all(conn)
    store.close()


def build(backend: str, size: int, params: BuildParams, *, postgis: str | None = None,
          rebuild: bool = False) -> Built:
    """The national database of `size` responses on `backend`, from the cache unless `rebuild`."""
    key = params_key(params)
    folder = CACHE / key
    folder.mkdir(parents=True, exist_ok=True)
    if (rebuild and "files" not in _REBUILT) or not (folder / "files.done").exists():
        write_base_files(folder, params)
        (folder / "files.done").write_text("ok")
        _REBUILT.add("files")
    csv = folder / f"responses_{size}.csv"
    if (rebuild and csv.name not in _REBUILT) or not csv.exists():
        write_responses(csv, size, params)
        _REBUILT.add(csv.name)
    done = folder / f"{backend}_{size}.json"
    url = (f"sqlite:///{folder / f'national_{size}.sqlite'}" if backend == "sqlite"
           else pg_url(postgis, f"nat_{key}_{size}"))
    if done.exists() and not rebuild and _usable(url):
        return Built(backend, url, size, csv, False, json.loads(done.read_text()))
    done.unlink(missing_ok=True)
    timings = _base(backend, size, params, folder, key, postgis, rebuild)
    seconds, peak = cli_import(url, csv, folder / f"import_{backend}_{size}.log")
    timings.update({"capmap import responses": seconds, "import peak MB": peak})
    done.write_text(json.dumps(timings))
    return Built(backend, url, size, csv, True, timings)


def _base(backend: str, size: int, params: BuildParams, folder: Path, key: str,
          postgis: str | None, rebuild: bool) -> dict:
    """The base data (everything but responses) in the database of one size."""
    if backend == "postgis":
        reset_schema(postgis, f"nat_{key}_{size}")
        return load_base(pg_url(postgis, f"nat_{key}_{size}"), folder, params)
    base = folder / "base.sqlite"
    timings_file = folder / "sqlite_base.json"
    if (rebuild and "sqlite base" not in _REBUILT) or not timings_file.exists():
        base.unlink(missing_ok=True)
        timings = load_base(f"sqlite:///{base}", folder, params)
        timings_file.write_text(json.dumps(timings))
        _REBUILT.add("sqlite base")
    target = folder / f"national_{size}.sqlite"
    shutil.copyfile(base, target)
    return json.loads(timings_file.read_text())


def _usable(url: str) -> bool:
    """Whether a cached database opens with the current schema."""
    try:
        store = open_store(url)
        try:
            store.check()
            return store.counts().get("responses", 0) > 0
        finally:
            store.close()
    except Exception:  # noqa: BLE001 - anything wrong means "build it again"
        return False
