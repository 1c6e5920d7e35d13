"""The upload reader starts with the worker: making the app starts the fork server (and its
imports) in the background, so the first upload of a worker forks from a server already running
instead of starting one. Checked in a fresh process: this one may have started a server already."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import io, json, os, sys
from multiprocessing import forkserver
from app import create_app
from capmap.io import isolated

app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "DATABASE_URL": sys.argv[1],
                  "TILES_URL": "", "SECRET_KEY": "t", "INSTANCE_PATH": sys.argv[2]})
isolated.prestart().join(120)  # the same thread create_app started: wait for it to finish
started = forkserver._forkserver._forkserver_pid
with app.app_context():
    from app.store import get_engine
    area = get_engine().layer("sample_dz").areas.iloc[[0]]
data = area[["code", area.geometry.name]].to_json().encode()
answer = app.test_client().post("/planscape/result", content_type="multipart/form-data",
                                data={"file": (io.BytesIO(data), "area.geojson")})
print(json.dumps({"started": started, "after": forkserver._forkserver._forkserver_pid,
                  "status": answer.status_code}))
"""


def test_the_reader_is_running_before_the_first_upload(sample_db, tmp_path):
    # Before: no fork server until the first upload started one (1 s idle, 15 s once under load).
    done = subprocess.run([sys.executable, "-c", SCRIPT, f"sqlite:///{sample_db}",
                           str(tmp_path / "instance")], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["started"] is not None  # running as the app was made, before any upload
    assert seen["after"] == seen["started"]  # the upload used it; it did not start another
    assert seen["status"] == 200
