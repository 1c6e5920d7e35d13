"""Schema 4: grouped engagement counts (a covering index on the assignments, themes stored
tidy) and the per-type plan coverage (filled by the pipeline after the upgrade)."""

import sqlalchemy as sa
from alembic import op

from capmap.core.models import normalise_themes

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.create_index("ix_assignments_record_layer_code", "assignments",
                    ["record", "layer_id", "code"])
    op.create_table(
        "type_coverage",
        sa.Column("layer_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("plan_type", sa.String(30), primary_key=True),
        sa.Column("share_of_area", sa.Float, nullable=False))
    _tidy_themes()


def _tidy_themes() -> None:
    """Responses' themes as normalise_themes writes them (only the untidy rows are read)."""
    responses = sa.table("responses", sa.column("id", sa.Integer), sa.column("themes", sa.Text))
    r = responses.c
    untidy = sa.or_(*(r.themes.contains(c) for c in (" ", "\t", "\n", "\r", ";;")),
                    r.themes.startswith(";"), r.themes.endswith(";"))
    conn = op.get_bind()
    rows = conn.execute(sa.select(r.id, r.themes).where(untidy)).all()
    changed = [{"rid": rid, "tidy": normalise_themes(themes)} for rid, themes in rows
               if normalise_themes(themes) != themes]
    if changed:
        conn.execute(sa.update(responses).where(r.id == sa.bindparam("rid"))
                     .values(themes=sa.bindparam("tidy")), changed)
