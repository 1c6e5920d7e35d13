"""Raw frames as read from files, turned into the records the store takes (EPSG:4326)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.codes import check_code, code_reasons, row_problems
from capmap.core.crs import SCOTLAND, Region
from capmap.core.errors import ValidationError
from capmap.core.models import PLAN_TYPES, LayerDef, normalise_themes
from capmap.io.indicators import indicator_columns
from capmap.io.plan_defaults import NO_DEFAULTS, PlanDefaults
from capmap.io.validate import (
    RowErrors,
    as_int,
    in_storage_crs,
    in_storage_crs_rows,
    listed,
    parse_date,
    parse_datetime,
    per_value,
    polygon_parts,
    require_columns,
    text,
    texts,
)
from capmap.io.vocab import DEFAULT_VOCABULARIES, Vocabularies, Vocabulary


def prepare_areas(raw: gpd.GeoDataFrame, layer: LayerDef, source: str,
                  region: Region = SCOTLAND) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Areas of one boundary layer, and the codes whose geometry was repaired.

    The whole layer is refused (codes listed) for blank or duplicate codes, missing, empty or
    non-polygon geometries: a layer is stored complete or not at all.
    """
    fields = {"code field": layer.code_field, "name field": layer.name_field,
              "alternative name field": layer.name_alt_field,
              "population field": layer.population_field, "parent field": layer.parent_field,
              "SIMD rank field": layer.simd_rank_field,
              "SIMD decile field": layer.simd_decile_field,
              "SIMD quintile field": layer.simd_quintile_field}
    require_columns(raw, fields, source)
    require_columns(raw, {f"indicator {n!r} field": c for n, c in layer.indicator_fields}, source)
    if raw.empty:
        raise ValidationError(f"{source}: the file holds no features")
    codes = raw[layer.code_field].map(text)
    _refuse_bad_codes(codes, source)
    _refuse_bad_geometries(raw.geometry.values, codes, source)
    out = gpd.GeoDataFrame({"code": codes.to_numpy()}, geometry=raw.geometry.values, crs=raw.crs)
    out = in_storage_crs(out, source, region)
    fixed, repaired = polygon_parts(out.geometry.values)
    now_empty = shapely.is_empty(fixed)
    if now_empty.any():
        raise ValidationError(
            f"{source}: no polygon area left after repair for codes {listed(list(codes[now_empty]))}"
        )
    out = out.set_geometry(gpd.GeoSeries(fixed, crs=out.crs, index=out.index)).rename_geometry("geom")
    _add_attributes(out, raw, layer, source)
    return out, list(codes[repaired])


def _refuse_bad_geometries(geoms, codes: pd.Series, source: str) -> None:
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise ValidationError(f"{source}: empty geometries for codes {listed(list(codes[empty]))}")
    kinds = shapely.get_type_id(geoms)
    not_polygons = ~np.isin(kinds, [int(k) for k in (3, 6)])
    if not_polygons.any():
        raise ValidationError(
            f"{source}: boundaries must be polygons; not polygons: {listed(list(codes[not_polygons]))}"
        )


def _add_attributes(out: gpd.GeoDataFrame, raw: gpd.GeoDataFrame, layer: LayerDef, source: str) -> None:
    """Names, parent codes, population, SIMD and indicator columns, checked, in place on `out`."""
    out["name"] = raw[layer.name_field].map(text).to_numpy() if layer.name_field in raw else ""
    out["name_alt"] = raw[layer.name_alt_field].map(text).to_numpy() if layer.name_alt_field else ""
    if layer.parent_field:
        parents = raw[layer.parent_field].map(text)
        problems = row_problems(parents, layer.parent_field)
        if problems:
            raise ValidationError(f"{source}: {problems}")
        out["parent_code"] = parents.replace("", None).to_numpy()
    else:
        out["parent_code"] = None
    numbers = {"population": layer.population_field, "simd_rank": layer.simd_rank_field,
               "simd_decile": layer.simd_decile_field, "simd_quintile": layer.simd_quintile_field}
    for column, field in numbers.items():
        out[column] = as_int(raw[field], field, source).to_numpy() if field else pd.NA
    for name, values in indicator_columns(raw, layer.indicator_fields, source).items():
        out[name] = values


def _refuse_bad_codes(codes: pd.Series, source: str, what: str = "code") -> None:
    problems = row_problems(codes, what)
    if problems:
        raise ValidationError(f"{source}: {problems}")
    blank = codes == ""
    if blank.any():
        rows = [str(i + 1) for i in np.flatnonzero(blank.to_numpy())]
        raise ValidationError(f"{source}: blank codes in rows {listed(rows)}")
    dupes = codes[codes.duplicated(keep=False)]
    if not dupes.empty:
        raise ValidationError(f"{source}: duplicate codes {listed(sorted(set(dupes)))}")


@dataclass(frozen=True)
class PlanFields:
    """Which column holds each plan attribute; `plan_type` applies one type to every row."""

    ref: str = "ref"
    title: str = "title"
    type: str = "type"
    owner: str = "owner"
    council_code: str = "council_code"
    period_start: str = "period_start"
    period_end: str = "period_end"
    review_due: str = "review_due"
    status: str = "status"
    themes: str = "themes"
    link: str = "link"
    summary: str = "summary"
    plan_type: str | None = None


def prepare_plans(raw: gpd.GeoDataFrame, fields: PlanFields, source: str, prefix: str,
                  region: Region = SCOTLAND, *, defaults: PlanDefaults = NO_DEFAULTS,
                  vocab: Vocabularies = DEFAULT_VOCABULARIES
                  ) -> tuple[gpd.GeoDataFrame, RowErrors]:
    """Plans with polygon areas; rows with no title, unknown type, bad dates, no area or an
    area off-region rejected. `defaults` fill blank fields; `vocab` maps plan types."""
    if not defaults.title_template:
        require_columns(raw, {"title field": fields.title}, source)
    require_columns(raw, {f"title template's {{{c}}}": c for c in defaults.template_fields()},
                    source)
    if fields.plan_type:
        known = vocab["plan type"].lookup(fields.plan_type)
        if known is None:
            raise ValidationError(f"plan type {fields.plan_type!r} is not known; expected one "
                                  f"of {', '.join(PLAN_TYPES)}")
        fields = replace(fields, plan_type=known)
    if not fields.plan_type and fields.type not in raw:
        raise ValidationError(f"{source}: no {fields.type!r} column; give the plan type for "
                              f"every row (e.g. --type locality_plan)")
    errors = RowErrors()
    frame, off_region = in_storage_crs_rows(raw, source, region)
    geoms, _ = polygon_parts(frame.geometry.values)
    rows = []
    for i, rec in enumerate(raw.drop(columns=raw.geometry.name).to_dict("records")):
        try:
            rows.append(_plan_row(rec, fields, f"{prefix}-{i + 1}", defaults, vocab))
        except ValueError as exc:
            errors.add(i, str(exc))
            rows.append({})
        if off_region[i]:
            errors.add(i, off_region[i])
        elif shapely.is_missing(geoms[i]) or shapely.is_empty(geoms[i]):
            errors.add(i, "no polygon area")
    keep = errors.keep_mask(len(rows))
    out = gpd.GeoDataFrame([r for r, k in zip(rows, keep, strict=True) if k],
                           geometry=list(geoms[keep]), crs=frame.crs)
    _refuse_duplicate_refs(out, "ref", source)
    return out.rename_geometry("geom"), errors


def _plan_row(rec: dict, f: PlanFields, default_ref: str, defaults: PlanDefaults,
              vocab: Vocabularies) -> dict:
    title = text(rec.get(f.title)) or defaults.title_for(rec)
    if not title:
        raise ValueError("title is blank")
    given = f.plan_type or text(rec.get(f.type))
    plan_type = vocab["plan type"].lookup(given) if given else None
    if plan_type is None:
        raise ValueError(vocab["plan type"].reason(given))
    dates = {}
    for name in ("period_start", "period_end", "review_due"):
        try:
            dates[name] = parse_date(rec.get(getattr(f, name))) or getattr(defaults, name)
        except ValueError:
            raise ValueError(f"{name} {rec.get(getattr(f, name))!r} is not a date "
                             "(YYYY-MM-DD)") from None
    ref = text(rec.get(f.ref))
    council = text(rec.get(f.council_code)) or defaults.council_code or ""
    status = text(rec.get(f.status))
    if ref:
        check_code(ref, "ref")
    if council:
        check_code(council, "council_code")
    return {
        "ref": ref or default_ref, "type": plan_type, "title": title,
        "owner": text(rec.get(f.owner)) or defaults.owner or "", "council_code": council or None,
        **dates, "status": vocab["plan status"].lookup(status) if status else "",
        "themes": text(rec.get(f.themes)),
        "link": _link(text(rec.get(f.link))), "summary": text(rec.get(f.summary)),
        "area_layer": None, "area_codes": None,
    }


def _coded(vocabulary: Vocabulary, value: str) -> str:
    """The canonical value of a closed vocabulary, or ValueError naming what is accepted."""
    known = vocabulary.lookup(value)
    if known is None:
        raise ValueError(vocabulary.reason(value))
    return known


def _link(url: str) -> str:
    """Only http(s) links are kept: a javascript: or data: link would run in a reader's browser."""
    if url and not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"link {url[:60]!r} is not an http(s) address")
    return url


def _refuse_duplicate_refs(frame: pd.DataFrame, column: str, source: str) -> None:
    if column in frame and frame[column].duplicated().any():
        dupes = sorted(set(frame.loc[frame[column].duplicated(), column]))
        raise ValidationError(f"{source}: duplicate refs {listed(dupes)}")


def prepare_actions(raw: gpd.GeoDataFrame, plan_ids: dict[str, int], source: str,
                    region: Region = SCOTLAND, *, vocab: Vocabularies = DEFAULT_VOCABULARIES
                    ) -> tuple[gpd.GeoDataFrame, RowErrors]:
    """Actions linked to stored plans by `plan_ref`; location optional (off-region: rejected);
    status and lead type mapped by `vocab`."""
    require_columns(raw, {"ref field": "ref", "plan field": "plan_ref", "title field": "title"},
                    source)
    errors = RowErrors()
    frame, off_region = in_storage_crs_rows(raw, source, region)
    rows = []
    for i, rec in enumerate(raw.drop(columns=raw.geometry.name).to_dict("records")):
        try:
            rows.append(_action_row(rec, plan_ids, vocab))
        except ValueError as exc:
            errors.add(i, str(exc))
            rows.append({})
        if off_region[i]:
            errors.add(i, off_region[i])
    keep = errors.keep_mask(len(rows))
    out = gpd.GeoDataFrame([r for r, k in zip(rows, keep, strict=True) if k],
                           geometry=list(frame.geometry.values[keep]), crs=frame.crs)
    _refuse_duplicate_refs(out, "ref", source)
    return out.rename_geometry("geom"), errors


def _action_row(rec: dict, plan_ids: dict[str, int], vocab: Vocabularies) -> dict:
    ref, plan_ref, title = text(rec.get("ref")), text(rec.get("plan_ref")), text(rec.get("title"))
    if not ref or not title:
        raise ValueError("ref or title is blank")
    check_code(ref, "ref")
    if plan_ref:
        check_code(plan_ref, "plan_ref")
    if plan_ref not in plan_ids:
        raise ValueError(f"plan_ref {plan_ref!r} is not a stored plan")
    status = _coded(vocab["action status"], text(rec.get("status")) or "not_started")
    lead_type = text(rec.get("lead_type"))
    lead_type = _coded(vocab["lead type"], lead_type) if lead_type else ""
    try:
        target, updated = parse_date(rec.get("target_date")), parse_date(rec.get("updated"))
    except ValueError:
        raise ValueError("target_date or updated is not a date (YYYY-MM-DD)") from None
    row = {k: text(rec.get(k)) for k in ("description", "theme", "lead", "partners", "resources",
                                         "measure", "progress_note")}
    return {**row, "ref": ref, "plan_id": plan_ids[plan_ref], "title": title, "status": status,
            "lead_type": lead_type, "target_date": target, "updated": updated}


def prepare_responses(raw: gpd.GeoDataFrame, area_codes: dict[str, set[str]], source: str,
                      region: Region = SCOTLAND, *, vocab: Vocabularies = DEFAULT_VOCABULARIES
                      ) -> tuple[gpd.GeoDataFrame, RowErrors]:
    """Responses located by a point, or only by an area code of a stored layer; never names.

    Checked column by column (a file can hold millions); a row's reason is its first failing
    check: campaign, channel, location (off-region), area code, date. Channels and age bands
    are mapped by `vocab`.
    """
    require_columns(raw, {"campaign field": "campaign", "channel field": "channel"}, source)
    frame, off_region = in_storage_crs_rows(raw, source, region)
    has_point = ~shapely.is_missing(frame.geometry.values)
    code_layer = {code: layer for layer, codes in area_codes.items() for code in codes}
    campaign, given, code = (texts(raw, c) for c in ("campaign", "channel", "area_code"))
    channel, odd = vocab["channel"].map_values(given)
    age_band = vocab["age band"].map_values(texts(raw, "age_band"))[0]
    reasons = np.full(len(raw), None, dtype=object)
    if "date" in raw:
        dates, bad = per_value(raw["date"], parse_date)
        values = raw["date"].to_numpy(dtype=object)
        reasons[bad] = [f"date {v!r} is not a date (YYYY-MM-DD)" for v in values[bad]]
    else:
        dates = np.full(len(raw), None, dtype=object)
    layer = pd.Series(code, dtype=object).map(code_layer).to_numpy(dtype=object)
    unknown = (code != "") & pd.isna(layer)
    reasons[unknown] = [f"area_code {c!r} is not in any stored layer" for c in code[unknown]]
    for column, values in (("ref", texts(raw, "ref")), ("area_code", code)):
        bad = np.array(code_reasons(values, column), dtype=object)
        reasons[pd.notna(bad)] = bad[pd.notna(bad)]
    reasons[~has_point & (code == "")] = "neither a location nor an area_code"
    outside = pd.notna(off_region)
    reasons[outside] = off_region[outside]
    odd = odd | (given == "")
    reasons[odd] = [vocab["channel"].reason(c) for c in given[odd]]
    reasons[campaign == ""] = "campaign is blank"
    errors = RowErrors()
    errors.add_all(reasons)
    keep = errors.keep_mask(len(raw))
    columns = {"ref": _or_none(texts(raw, "ref")), "campaign": campaign, "channel": channel,
               "date": dates, "themes": _tidy_themes(texts(raw, "themes")), "area_layer": _or_none(layer),
               "area_code": _or_none(code), "age_band": _or_none(age_band)}
    out = gpd.GeoDataFrame({k: v[keep] for k, v in columns.items()},
                           geometry=frame.geometry.values[keep], crs=frame.crs)
    return out.rename_geometry("geom"), errors


def _tidy_themes(values: np.ndarray) -> np.ndarray:
    """Each `;`-separated theme list as stored (models.normalise_themes)."""
    return np.array([normalise_themes(v) for v in values], dtype=object)


def _or_none(values: np.ndarray) -> np.ndarray:
    """'' and missing values as None (an optional column left blank)."""
    out = values.astype(object)
    out[pd.isna(out) | (out == "")] = None
    return out


def prepare_pins(raw: gpd.GeoDataFrame, source: str, region: Region = SCOTLAND, *,
                 vocab: Vocabularies = DEFAULT_VOCABULARIES) -> tuple[gpd.GeoDataFrame, RowErrors]:
    """Pins with a point each (off-region: rejected); `public_geom` is added by the caller.
    Status and category are mapped by `vocab`."""
    require_columns(raw, {"category field": "category", "description field": "description"},
                    source)
    errors = RowErrors()
    frame, off_region = in_storage_crs_rows(raw, source, region)
    kinds = shapely.get_type_id(frame.geometry.values)
    rows = []
    for i, rec in enumerate(raw.drop(columns=raw.geometry.name).to_dict("records")):
        try:
            if kinds[i] != 0:
                raise ValueError("a pin must be a point")
            if off_region[i]:
                raise ValueError(off_region[i])
            rows.append(_pin_row(rec, vocab))
        except ValueError as exc:
            errors.add(i, str(exc))
            rows.append({})
    keep = errors.keep_mask(len(rows))
    out = gpd.GeoDataFrame([r for r, k in zip(rows, keep, strict=True) if k],
                           geometry=list(frame.geometry.values[keep]), crs=frame.crs)
    return out.rename_geometry("geom"), errors


def _pin_row(rec: dict, vocab: Vocabularies) -> dict:
    category, description = text(rec.get("category")), text(rec.get("description"))
    if not category or not description:
        raise ValueError("category or description is blank")
    category = vocab["pin category"].lookup(category)
    status = _coded(vocab["pin status"], text(rec.get("status")) or "pending")
    try:
        created = parse_datetime(rec.get("created")) or datetime.now(UTC)
    except ValueError:
        raise ValueError(f"created {rec.get('created')!r} is not an ISO date-time") from None
    ref = text(rec.get("ref"))
    if ref:
        check_code(ref, "ref")
    return {"ref": ref or None, "category": category,
            "description": description, "created": created, "status": status,
            "contact": text(rec.get("contact")) or None}
