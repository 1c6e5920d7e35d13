"""The one schema both backends share (SQLAlchemy Core).

Geometry is stored as WKB in EPSG:4326: a plain BLOB on SQLite (shapely makes the exact tests) and a
PostGIS `geometry(Geometry, 4326)` column on PostgreSQL, where GiST indexes push spatial filters into
SQL. Both keep bounding-box columns so a bbox filter is a plain indexed comparison on either backend.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType

SCHEMA_VERSION = 15


class Geometry(UserDefinedType):
    """A geometry column: WKB in, WKB out, whatever the backend stores it as."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "BLOB"

    def bind_expression(self, bindvalue):
        return _wkb_in(bindvalue)

    def column_expression(self, col):
        return _wkb_out(col)


class _wkb_in(FunctionElement):
    inherit_cache = True


class _wkb_out(FunctionElement):
    type = sa.LargeBinary()
    inherit_cache = True


@compiles(Geometry, "postgresql")
def _pg_geometry(type_, compiler, **kw) -> str:
    return "geometry(Geometry, 4326)"


@compiles(_wkb_in)
def _plain_in(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_wkb_in, "postgresql")
def _pg_in(element, compiler, **kw) -> str:
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, 4326)"


@compiles(_wkb_out)
def _plain_out(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_wkb_out, "postgresql")
def _pg_out(element, compiler, **kw) -> str:
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


metadata = sa.MetaData()


def _bbox() -> list[sa.Column]:
    return [sa.Column(n, sa.Float) for n in ("minx", "miny", "maxx", "maxy")]


meta = sa.Table(
    "capmap_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

layers = sa.Table(
    "layers",
    metadata,
    sa.Column("layer_id", sa.String(40), primary_key=True),
    sa.Column("vintage", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("title", sa.Text, nullable=False, default=""),
    sa.Column("licence", sa.Text, nullable=False, default=""),
    sa.Column("source", sa.Text, nullable=False, default=""),
    sa.Column("area_count", sa.Integer, nullable=False),
    sa.Column("is_current", sa.Boolean, nullable=False),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
)

areas = sa.Table(
    "areas",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("layer_id", sa.String(40), nullable=False),
    sa.Column("vintage", sa.String(40), nullable=False),
    sa.Column("code", sa.String(40), nullable=False),
    sa.Column("name", sa.Text, nullable=False, default=""),
    # An alternative name (Gaelic beside English, or English beside Gaelic), and both names
    # folded for search (capmap.core.folding: no accents, case or punctuation), so a name search is
    # one indexed query on either backend.
    sa.Column("name_alt", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("name_folded", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("name_alt_folded", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("parent_code", sa.String(40)),
    sa.Column("population", sa.Integer),
    sa.Column("simd_rank", sa.Integer),
    sa.Column("simd_decile", sa.Integer),
    sa.Column("simd_quintile", sa.Integer),
    sa.Column("geom", Geometry, nullable=False),
    *_bbox(),
    sa.ForeignKeyConstraint(
        ["layer_id", "vintage"], ["layers.layer_id", "layers.vintage"], ondelete="CASCADE"
    ),
    sa.UniqueConstraint("layer_id", "vintage", "code", name="uq_area_code"),
    sa.Index("ix_areas_name_folded", "name_folded"),
    sa.Index("ix_areas_name_alt_folded", "name_alt_folded"),
)

# Named numbers per area of a layer vintage (SIMD domain ranks and other indicators); stored
# long so grouped SQL weights them by population the same way on both backends.
area_indicators = sa.Table(
    "area_indicators",
    metadata,
    sa.Column("layer_id", sa.String(40), primary_key=True),
    sa.Column("vintage", sa.String(40), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.Float, nullable=False),
    sa.ForeignKeyConstraint(
        ["layer_id", "vintage"], ["layers.layer_id", "layers.vintage"], ondelete="CASCADE"
    ),
    sa.Index("ix_area_indicators_name", "layer_id", "vintage", "name"),
)

plans = sa.Table(
    "plans",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(60), nullable=False, unique=True),
    sa.Column("type", sa.String(30), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("owner", sa.Text, nullable=False, default=""),
    sa.Column("council_code", sa.String(40)),
    sa.Column("period_start", sa.Date),
    sa.Column("period_end", sa.Date),
    sa.Column("review_due", sa.Date),
    sa.Column("status", sa.String(30), nullable=False, default=""),
    sa.Column("themes", sa.Text, nullable=False, default=""),
    sa.Column("link", sa.Text, nullable=False, default=""),
    sa.Column("summary", sa.Text, nullable=False, default=""),
    sa.Column("area_layer", sa.String(40)),
    sa.Column("area_codes", sa.Text),
    sa.Column("geom", Geometry, nullable=False),
    *_bbox(),
)

actions = sa.Table(
    "actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(60), nullable=False, unique=True),
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("theme", sa.String(60), nullable=False, default=""),
    sa.Column("lead", sa.Text, nullable=False, default=""),
    sa.Column("lead_type", sa.String(30), nullable=False, default=""),
    sa.Column("partners", sa.Text, nullable=False, default=""),
    sa.Column("resources", sa.Text, nullable=False, default=""),
    sa.Column("measure", sa.Text, nullable=False, default=""),
    sa.Column("target_date", sa.Date),
    sa.Column("status", sa.String(30), nullable=False, default="not_started"),
    sa.Column("progress_note", sa.Text, nullable=False, default=""),
    sa.Column("percent_complete", sa.Integer),
    sa.Column("updated", sa.Date),
    sa.Column("geom", Geometry),
    *_bbox(),
    sa.Index("ix_actions_plan", "plan_id"),
)

responses = sa.Table(
    "responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(60)),
    sa.Column("campaign", sa.Text, nullable=False),
    sa.Column("channel", sa.String(30), nullable=False),
    sa.Column("date", sa.Date),
    sa.Column("themes", sa.Text, nullable=False, default=""),
    sa.Column("area_layer", sa.String(40)),
    sa.Column("area_code", sa.String(40)),
    sa.Column("age_band", sa.String(20)),
    sa.Column("geom", Geometry),
    *_bbox(),
    # A digest of a row without a ref (capmap.storage.upserts.content_keys): what tells a file
    # imported again from new responses.
    sa.Column("content_key", sa.String(32)),
    sa.Index("ix_responses_campaign", "campaign"),
    sa.Index("ix_responses_ref", "ref"),
    sa.Index("ix_responses_content_key", "content_key"),
)

pins = sa.Table(
    "pins",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(60)),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, default="pending"),
    # Never shown in public: exact point and contact details stay server-side.
    sa.Column("contact", sa.Text),
    sa.Column("geom", Geometry, nullable=False),
    sa.Column("public_geom", Geometry, nullable=False),
    *_bbox(),  # of the exact point: never for a public query
    # The public point's coordinates, written with the pin (Store.put_pins): what a public
    # query filters on in SQL.
    sa.Column("public_x", sa.Float),
    sa.Column("public_y", sa.Float),
    sa.Column("content_key", sa.String(32)),  # as for responses
    sa.Index("ix_pins_status", "status"),
    sa.Index("ix_pins_ref", "ref"),
    sa.Index("ix_pins_content_key", "content_key"),
)

# Derived: the area of every current layer each point record falls in (code NULL: outside).
assignments = sa.Table(
    "assignments",
    metadata,
    sa.Column("record", sa.String(20), primary_key=True),
    sa.Column("record_id", sa.Integer, primary_key=True),
    sa.Column("layer_id", sa.String(40), primary_key=True),
    sa.Column("code", sa.String(40)),
    sa.Index("ix_assignments_layer_code", "layer_id", "code"),
    # Serves the grouped counts (responses per area of a layer) from the index alone.
    sa.Index("ix_assignments_record_layer_code", "record", "layer_id", "code"),
)

# Derived: how much of each area of a layer each plan covers (areas measured in EPSG:27700).
plan_coverage = sa.Table(
    "plan_coverage",
    metadata,
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("layer_id", sa.String(40), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("overlap_m2", sa.Float, nullable=False),
    sa.Column("share_of_area", sa.Float, nullable=False),
    sa.Column("share_of_plan", sa.Float, nullable=False),
    sa.Index("ix_plan_coverage_layer_code", "layer_id", "code"),
)

# Derived: how much of each area of a layer the plans of each type cover together (their union,
# so overlapping plans of one type are not counted twice), and under `plan_type` ANY_LOCAL the
# plans that are not council-wide. What the plan coverage gaps and dashboards read.
type_coverage = sa.Table(
    "type_coverage",
    metadata,
    sa.Column("layer_id", sa.String(40), primary_key=True),
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("plan_type", sa.String(30), primary_key=True),
    sa.Column("share_of_area", sa.Float, nullable=False),
)

# People who log in. Roles: officer, moderator, planner, admin (";"-separated). No default user.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(80), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_login", sa.DateTime(timezone=True)),
    # Moved on by logout, a password change and disabling: a signed session carries the value
    # it was made under, and one made under an older value no longer logs anyone in.
    sa.Column("session_epoch", sa.Integer, nullable=False, default=0, server_default="0"),
    # The council codes (";"-separated) whose plans the account may edit and whose exact
    # figures it sees; empty: every council.
    sa.Column("councils", sa.Text, nullable=False, default="", server_default=""),
)

# Postcode points (upper case, one space: "G51 2AB"), with the district ("G51") and sector
# ("G51 2") they belong to, indexed so a partial postcode is one grouped query.
postcodes = sa.Table(
    "postcodes",
    metadata,
    sa.Column("postcode", sa.String(10), primary_key=True),
    sa.Column("district", sa.String(4)),
    sa.Column("sector", sa.String(6)),
    sa.Column("geom", Geometry, nullable=False),
    *_bbox(),
    sa.Index("ix_postcodes_district", "district"),
    sa.Index("ix_postcodes_sector", "sector"),
)

# Every moderation decision on a pin, with who made it and when: the pin's history.
pin_decisions = sa.Table(
    "pin_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pin_id", sa.Integer, sa.ForeignKey("pins.id", ondelete="CASCADE"), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    # The username, not a key into users: the history outlives any change to the account.
    sa.Column("moderator", sa.String(80), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    # Shown to the resident on their follow page and in emails; `reason` stays private.
    sa.Column("public_note", sa.Text, nullable=False, default="", server_default=""),
    sa.CheckConstraint("decision IN ('publish', 'hide', 'resolve')", name="ck_pin_decision"),
    sa.Index("ix_pin_decisions_pin", "pin_id"),
)

# Private links that let a resident follow their pin: only a SHA-256 of each token is kept, so
# the database alone opens no follow page. `email` (on the link made at submission, when the
# resident asked for updates) is where status changes are sent; each email carries a new token.
pin_follows = sa.Table(
    "pin_follows",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("pin_id", sa.Integer, sa.ForeignKey("pins.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("lang", sa.String(8)),  # the follower's interface language; NULL: the default
    sa.Index("ix_pin_follows_pin", "pin_id"),
)

# Email waiting to be sent, sent, or given up on (capmap.services.mail): written in the transaction of
# the change it reports, sent later by the app's sender thread, never inside a request.
mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pin_id", sa.Integer, sa.ForeignKey("pins.id", ondelete="CASCADE")),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, default="queued"),  # queued, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text, nullable=False, default=""),
    sa.Index("ix_mail_outbox_due", "status", "next_attempt"),
)

# Every change to a plan or action, from the web or an import: who, when, which field, the old
# and new values as text. Ids are plain numbers, not foreign keys: the history outlives a removed
# plan (a removal is a row with field REMOVED). `plan_id` is the plan of an action too, so a
# plan's history, or everything changed in a period, is one indexed query; one record's field as it
# stood at a moment (the last change before it, capmap.storage.reports) is one index probe.
record_changes = sa.Table(
    "record_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record", sa.String(10), nullable=False),
    sa.Column("record_id", sa.Integer, nullable=False),
    sa.Column("ref", sa.String(60), nullable=False),
    sa.Column("plan_id", sa.Integer, nullable=False),
    sa.Column("field", sa.String(40), nullable=False),
    sa.Column("old_value", sa.Text),
    sa.Column("new_value", sa.Text),
    sa.Column("changed_by", sa.String(80), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("record IN ('plan', 'action')", name="ck_change_record"),
    sa.Index("ix_record_changes_plan_at", "plan_id", "at"),
    sa.Index("ix_record_changes_at", "at"),
    sa.Index("ix_record_changes_field_at", "record", "record_id", "field", "at"),
)

# The register of Local Place Plans a planning authority keeps (SSI 2021/353 regs 6-8): one
# entry per plan of type local_place_plan, its council the plan's. The status moves through
# capmap.services.lpp_register.TRANSITIONS; each step's date is kept, and `reason` holds why a plan was
# not registered or was removed (empty otherwise). Each change is also a record_changes row of
# the plan (fields lpp_*), with who made it and when.
lpp_register = sa.Table(
    "lpp_register",
    metadata,
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("community_body", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("proposed_on", sa.Date),
    sa.Column("submitted_on", sa.Date),
    sa.Column("validated_on", sa.Date),
    sa.Column("registered_on", sa.Date),
    sa.Column("not_registered_on", sa.Date),
    sa.Column("removed_on", sa.Date),
    sa.Column("reason", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('proposed', 'submitted', 'validated', 'registered', "
                       "'not_registered', 'removed')", name="ck_lpp_status"),
    sa.Index("ix_lpp_register_status", "status"),
)

# The councillors of each ward (by the ward's code in any ward layer), for the notification list
# of a proposed Local Place Plan (SSI 2021/353 reg. 4). An import replaces the councillors of
# the wards it names, whole.
councillors = sa.Table(
    "councillors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ward_code", sa.String(40), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("party", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("email", sa.Text, nullable=False, default="", server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_councillors_ward_code", "ward_code"),
)
