"""Pieces the revisions share. Frozen: a revision must build the same shape for ever, so change
nothing here that a revision already uses (add a new helper instead)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from capmap.storage.schema import Geometry

__all__ = ["Geometry", "bbox", "gist_index", "on_postgis"]


def bbox() -> list[sa.Column]:
    """The bounding-box columns of a table with geometry."""
    return [sa.Column(n, sa.Float) for n in ("minx", "miny", "maxx", "maxy")]


def on_postgis() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def gist_index(name: str, table: str, column: str) -> None:
    """A GiST index on a PostGIS geometry column (SQLite has none: box columns stand in)."""
    if on_postgis():
        op.create_index(name, table, [column], postgresql_using="gist")
