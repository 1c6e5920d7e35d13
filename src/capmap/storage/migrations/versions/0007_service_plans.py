"""Schema 7: service plans are council-wide (capmap.services.gaprules). No change of shape: the per-type
coverage is written again by the pipeline after the upgrade (REFRESH_PLAN_COVERAGE)."""

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    pass
