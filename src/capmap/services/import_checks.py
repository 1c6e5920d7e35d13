"""What an import must say before it stores anything: columns a new vintage would lose, and
rows it rejected (then nothing is stored unless the user allows it)."""

from __future__ import annotations

import geopandas as gpd

from capmap.core.errors import NotFound, RowsRejected, ValidationError
from capmap.core.models import ImportReport, LayerDef
from capmap.storage import Store

_NOUNS = {"neighbourhood": "zones", "intermediate": "zones", "ward": "wards",
          "council": "council areas"}


def column_losses(store: Store, layer: LayerDef, areas: gpd.GeoDataFrame) -> list[str]:
    """One sentence per optional column (population, SIMD, each indicator) that the layer's
    current vintage has and the prepared `areas` of this import lack entirely."""
    try:
        current = store.layer(layer.id)
    except NotFound:
        return []
    before = store.layer_columns(current.id, current.vintage)
    after = {"population": int(areas["population"].notna().sum()),
             "SIMD": int(areas[["simd_rank", "simd_decile", "simd_quintile"]].notna()
                         .any(axis=1).sum()),
             **{f"indicator {n}": int(areas[n].notna().sum()) for n, _ in layer.indicator_fields}}
    noun = _NOUNS.get(layer.kind, "areas")
    return [f"this vintage has no {what}: {count:,} {noun} of {layer.id} ({current.vintage}) "
            f"would lose their {what} values"
            for what, count in before.items() if count and not after.get(what)]


def refuse_losses(report: ImportReport, allowed: bool) -> None:
    """Refuse (nothing stored) an import whose report lists losses the user has not accepted."""
    if report.losses and not allowed:
        raise ValidationError(
            f"{report.what}: {'; '.join(report.losses)}. Nothing was stored; confirm the loss "
            "to import it anyway (--allow-losses, or the confirm box on the web)")


def refuse_rejects(report: ImportReport, allowed: bool) -> None:
    """Refuse (nothing stored) an import that rejected rows, unless rejects are allowed."""
    if report.rejected and not allowed:
        row, why = report.rejected[0]
        raise RowsRejected(
            f"{report.what}: {len(report.rejected)} rows rejected, so nothing was stored "
            f"(row {row}: {why}); fix them, or allow rejects (--allow-rejects) to store the "
            "other rows", report)
