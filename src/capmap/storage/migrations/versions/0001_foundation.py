"""Schema 1: boundary layers and areas, plans, actions, responses, pins, postcodes, and the
derived area assignments and plan coverage."""

import sqlalchemy as sa
from alembic import op

from capmap.storage.migrations.ddl import Geometry, bbox, gist_index, on_postgis

revision = "0001"
down_revision = None


def upgrade() -> None:
    if on_postgis():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table("capmap_meta",
                    sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    _layers_and_areas()
    _plans_and_actions()
    _points()
    op.create_table(
        "assignments",
        sa.Column("record", sa.String(20), primary_key=True),
        sa.Column("record_id", sa.Integer, primary_key=True),
        sa.Column("layer_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40)))
    op.create_index("ix_assignments_layer_code", "assignments", ["layer_id", "code"])
    op.create_table(
        "plan_coverage",
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("layer_id", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("overlap_m2", sa.Float, nullable=False),
        sa.Column("share_of_area", sa.Float, nullable=False),
        sa.Column("share_of_plan", sa.Float, nullable=False))
    op.create_index("ix_plan_coverage_layer_code", "plan_coverage", ["layer_id", "code"])


def _layers_and_areas() -> None:
    op.create_table(
        "layers",
        sa.Column("layer_id", sa.String(40), primary_key=True),
        sa.Column("vintage", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("licence", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("area_count", sa.Integer, nullable=False),
        sa.Column("is_current", sa.Boolean, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False))
    op.create_table(
        "areas",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("layer_id", sa.String(40), nullable=False),
        sa.Column("vintage", sa.String(40), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent_code", sa.String(40)),
        *(sa.Column(n, sa.Integer) for n in ("population", "simd_rank", "simd_decile",
                                              "simd_quintile")),
        sa.Column("geom", Geometry, nullable=False),
        *bbox(),
        sa.ForeignKeyConstraint(["layer_id", "vintage"], ["layers.layer_id", "layers.vintage"],
                                ondelete="CASCADE"),
        sa.UniqueConstraint("layer_id", "vintage", "code", name="uq_area_code"))
    gist_index("ix_areas_geom", "areas", "geom")


def _plans_and_actions() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(60), nullable=False, unique=True),
        sa.Column("type", sa.String(30), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("council_code", sa.String(40)),
        *(sa.Column(n, sa.Date) for n in ("period_start", "period_end", "review_due")),
        sa.Column("status", sa.String(30), nullable=False),
        *(sa.Column(n, sa.Text, nullable=False) for n in ("themes", "link", "summary")),
        sa.Column("area_layer", sa.String(40)),
        sa.Column("area_codes", sa.Text),
        sa.Column("geom", Geometry, nullable=False),
        *bbox())
    gist_index("ix_plans_geom", "plans", "geom")
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(60), nullable=False, unique=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("theme", sa.String(60), nullable=False),
        sa.Column("lead", sa.Text, nullable=False),
        sa.Column("lead_type", sa.String(30), nullable=False),
        *(sa.Column(n, sa.Text, nullable=False) for n in ("partners", "resources", "measure")),
        sa.Column("target_date", sa.Date),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("progress_note", sa.Text, nullable=False),
        sa.Column("updated", sa.Date),
        sa.Column("geom", Geometry),
        *bbox())
    gist_index("ix_actions_geom", "actions", "geom")


def _points() -> None:
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(60)),
        sa.Column("campaign", sa.Text, nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("date", sa.Date),
        sa.Column("themes", sa.Text, nullable=False),
        sa.Column("area_layer", sa.String(40)),
        sa.Column("area_code", sa.String(40)),
        sa.Column("age_band", sa.String(20)),
        sa.Column("geom", Geometry),
        *bbox())
    op.create_index("ix_responses_campaign", "responses", ["campaign"])
    gist_index("ix_responses_geom", "responses", "geom")
    op.create_table(
        "pins",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ref", sa.String(60)),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("contact", sa.Text),
        sa.Column("geom", Geometry, nullable=False),
        sa.Column("public_geom", Geometry, nullable=False),
        *bbox())
    op.create_index("ix_pins_status", "pins", ["status"])
    gist_index("ix_pins_geom", "pins", "geom")
    op.create_table(
        "postcodes",
        sa.Column("postcode", sa.String(10), primary_key=True),
        sa.Column("geom", Geometry, nullable=False),
        *bbox())
    gist_index("ix_postcodes_geom", "postcodes", "geom")
