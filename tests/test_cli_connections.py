"""Every command closes its database connections when it ends, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from capmap.cli import cli


def _sessions(url: str) -> int:
    """Other sessions open on the PostGIS database of `url` (0 on SQLite, which has none)."""
    if not url.startswith("postgresql"):
        return 0
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                              poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        return conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").scalar_one()


def test_commands_leave_no_session_open(store_url, squares_bng, tmp_path):
    runner = CliRunner()
    before = _sessions(store_url)
    path = tmp_path / "squares.geojson"
    squares_bng.to_file(path, driver="GeoJSON")
    succeed = [
        ["init"], ["upgrade"],
        ["import", "boundaries", str(path), "--layer", "sq", "--kind", "neighbourhood",
         "--code-field", "code", "--name-field", "name"],
        ["layers"],
        ["users", "add", "ann", "--role", "officer", "--password-stdin"],
        ["users", "list"],
    ]
    fail = [["import", "boundaries", str(tmp_path / "missing.geojson"), "--layer", "x",
             "--kind", "neighbourhood"]]
    for args in succeed + fail:
        result = runner.invoke(cli, ["--db", store_url, *args], input="a long enough password\n")
        assert (result.exit_code == 0) is (args in succeed), result.output
        assert _sessions(store_url) == before, f"{' '.join(args)} left a session open"
