"""The first finder upload of a fresh worker against its second: what starting the upload reader
costs the first person to upload. Each run is a fresh process that makes the app, sits idle for
--idle seconds (a worker between start-up and its first request), then uploads the same boundary
twice. --busy N adds N processes spinning on the CPU, as on a loaded machine.

    python bench/bench_first_upload.py [--runs 3] [--idle 3] [--busy 0]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "from capmap.cli import main; main()"

ONE_RUN = r"""
import io, json, sys, time
from app import create_app
db, idle = sys.argv[1], float(sys.argv[2])
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "DATABASE_URL": db,
                  "TILES_URL": "", "SECRET_KEY": "b", "INSTANCE_PATH": sys.argv[3]})
client = app.test_client()
with app.app_context():
    from app.store import get_engine
    area = get_engine().layer("sample_dz").areas.iloc[[0]]
data = area[["code", area.geometry.name]].to_json().encode()
time.sleep(idle)
seconds = []
for _ in range(2):
    start = time.perf_counter()
    answer = client.post("/planscape/result", data={"file": (io.BytesIO(data), "area.geojson")},
                         content_type="multipart/form-data")
    assert answer.status_code == 200, answer.get_data(as_text=True)[-600:]
    seconds.append(time.perf_counter() - start)
print(json.dumps(seconds))
"""


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--busy", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{folder}/bench.sqlite"
        for command in ("init", "load-sample"):
            subprocess.run([sys.executable, "-c", CLI, "--db", db, command], check=True,
                           capture_output=True, cwd=ROOT)
        stop = multiprocessing.Event()
        spinners = [multiprocessing.Process(target=_spin, args=(stop,)) for _ in range(args.busy)]
        for spinner in spinners:
            spinner.start()
        try:
            for run in range(args.runs):
                out = subprocess.run([sys.executable, "-c", ONE_RUN, db, str(args.idle),
                                      f"{folder}/instance{run}"], capture_output=True, text=True,
                                     cwd=ROOT)
                if out.returncode:
                    sys.exit(f"the run failed:\n{out.stderr[-2000:]}")
                first, second = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"run {run + 1}: first upload {first:.2f} s, second {second:.2f} s "
                      f"(idle {args.idle:g} s, {args.busy} busy)")
                time.sleep(0.5)
        finally:
            stop.set()
            for spinner in spinners:
                spinner.join()


if __name__ == "__main__":
    main()
