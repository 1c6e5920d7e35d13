"""The population engagement figures are computed over: the whole layer, the areas inside one
area of any layer (a council, a ward), or by default with a campaign selected, the councils
the campaign ran in.

Rates, equity, gaps, outreach and colour classes are all divided over the scope's areas only,
and every answer states the scope ("over the 746 areas of dz11 in Glasgow City, population
632,350")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from capmap.core.codes import code_problem
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.core.models import EngagementFilters
from capmap.services.engine import Engine, LayerState
from capmap.storage import Store

# A campaign's own area: the councils holding at least this share of its responses located in
# the layer. A share, not "any response", so that one mistyped postcode does not add a council
# of hundreds of areas to the denominator; 2 % keeps every council a campaign really ran in
# (a council with a fiftieth of its responses is part of it).
CAMPAIGN_AREA_MIN_SHARE = 0.02
WHOLE = "all"


@dataclass(frozen=True)
class ScopeRequest:
    """Which areas the figures are over: `area` (layer id, code) of any layer, the whole layer
    when `whole`, else (None, False) the selected campaign's area, or the whole layer."""

    area: tuple[str, str] | None = None
    whole: bool = False


DEFAULT_SCOPE = ScopeRequest()


@dataclass(frozen=True)
class Scope:
    """The areas chosen (rows of the layer's areas) and how they were chosen."""

    kind: str                       # "layer", "area" or "campaign"
    areas: pd.DataFrame             # the layer's areas in scope
    label: str                      # "Glasgow City", "the whole layer"
    rule: str                       # how the areas were chosen, in words
    within: list[dict]              # the areas the scope is made of: layer, code, name

    def describe(self, state: LayerState) -> dict:
        """The scope as the JSON and the page state it."""
        pop = pd.to_numeric(self.areas["population"]).dropna()
        count, people = len(self.areas), int(pop.sum())
        noun = state.layer.title or state.layer.id
        where = "" if self.kind == "layer" else f" in {self.label}"
        unknown = count - len(pop)
        statement = (f"over the {count:,} areas of {noun}{where}, population {people:,}"
                     + (f" ({unknown:,} areas of unknown population)" if unknown else ""))
        return {"kind": self.kind, "label": self.label, "rule": self.rule, "within": self.within,
                "areas": count, "population": people, "statement": statement}


def parse_scope(council: str | None = None, scope: str | None = None) -> ScopeRequest:
    """A scope from `council=CODE` or `scope=LAYER:CODE` / `scope=all` as typed in a URL or on
    the command line; InputError when malformed or both are given."""
    council = (council or "").strip()
    scope = (scope or "").strip()
    if council and scope:
        raise InputError("give either council or scope, not both")
    if scope == WHOLE:
        return ScopeRequest(whole=True)
    if council:
        return ScopeRequest(area=("council", _code(council, "council")))
    if not scope:
        return DEFAULT_SCOPE
    layer, _, code = scope.partition(":")
    if not layer.strip() or not code.strip():
        raise InputError(f"scope must be LAYER:CODE (e.g. council:S12000049) or {WHOLE}; "
                         f"got {scope[:60]!r}")
    return ScopeRequest(area=(layer.strip(), _code(code.strip(), "scope")))


def _code(code: str, what: str) -> str:
    problem = code_problem(code, f"{what} code")
    if problem:
        raise InputError(problem)
    return code


def resolve_scope(store: Store, engine: Engine, state: LayerState, request: ScopeRequest,
                  filters: EngagementFilters, counts: dict[str | None, int]) -> Scope:
    """The areas of `state` the figures are over. `counts` are the responses per code under
    `filters` (reused for the campaign's area when the campaign is the only filter)."""
    if request.area is not None:
        return _area_scope(engine, state, *request.area)
    if request.whole or filters.campaign is None:
        return Scope("layer", state.areas, "the whole layer", "every area of the layer", [])
    if filters != EngagementFilters(campaign=filters.campaign):
        counts = store.response_counts(state.layer.id, EngagementFilters(campaign=filters.campaign))
    return _campaign_scope(engine, state, filters.campaign, counts)


def _area_scope(engine: Engine, state: LayerState, layer_id: str, code: str) -> Scope:
    """The areas of `state` inside area `code` of `layer_id`: by parent code for a council
    (exact, and needs no council layer), else the areas whose inner point falls inside it."""
    parents = state.areas["parent_code"].to_numpy(dtype=object)
    name = _area_name(engine, layer_id, code)
    if layer_id == state.layer.id:
        keep = state.areas["code"].to_numpy(dtype=object) == code
        rule = f"the area {code} of {layer_id}"
    elif _is_council_layer(engine, layer_id) and (parents == code).any():
        keep = parents == code
        rule = f"the areas whose council is {code}"
    else:
        keep = _nested_in(engine, state, layer_id) == code
        rule = f"the areas whose inner point is inside {code} of {layer_id}"
    if not keep.any():
        raise ValidationError(f"no area of {state.layer.id} is inside {code} of {layer_id}; "
                              "give an area that overlaps this layer")
    within = [{"layer": layer_id, "code": code, "name": name}]
    return Scope("area", state.areas[keep], name or code, rule, within)


def _is_council_layer(engine: Engine, layer_id: str) -> bool:
    layer = engine.layers().get(layer_id)
    return layer_id == "council" or (layer is not None and layer.layer.kind == "council")


def _council_layer(engine: Engine) -> LayerState | None:
    councils = [s for s in engine.layers().values() if s.layer.kind == "council"]
    return min(councils, key=lambda s: s.layer.id, default=None)


def _area_name(engine: Engine, layer_id: str, code: str) -> str:
    """The name of an area; for `council`, of the council layer if one is loaded (else "")."""
    layers = engine.layers()
    if layer_id == "council" and layer_id not in layers:
        state = _council_layer(engine)
        if state is None or code not in state.row_of:
            return ""
    else:
        try:
            state = engine.layer(layer_id)
        except NotFound as exc:
            raise ValidationError(exc.message) from exc
        if code not in state.row_of:
            raise ValidationError(f"scope: no area {code!r} in layer {layer_id}")
    return str(state.names[state.row_of[code]])


def _nested_in(engine: Engine, state: LayerState, layer_id: str) -> np.ndarray:
    """Per area of `state`, the code of the `layer_id` area holding its inner point (None outside)."""
    def compute() -> np.ndarray:
        return engine.assign(state.inner_points, only=[layer_id])[layer_id]
    return engine.memo(f"nested:{state.layer.id}:{layer_id}", compute)


def _campaign_scope(engine: Engine, state: LayerState, campaign: str,
                    counts: dict[str | None, int]) -> Scope:
    """The councils (parent codes; the areas themselves in a layer without parents) holding at
    least CAMPAIGN_AREA_MIN_SHARE of the campaign's responses located in the layer."""
    codes = state.areas["code"].to_numpy(dtype=object)
    parents = state.areas["parent_code"].to_numpy(dtype=object)
    groups = parents if pd.notna(parents).any() else codes
    heard = np.fromiter((counts.get(c, 0) for c in codes), dtype=np.int64, count=len(codes))
    total = int(heard.sum())
    if total == 0:
        return Scope("layer", state.areas, "the whole layer",
                     f"campaign {campaign!r} has no response in this layer: every area", [])
    by_group = pd.Series(heard).groupby(pd.Series(groups, dtype=object), dropna=True).sum()
    chosen = sorted(by_group.index[by_group >= CAMPAIGN_AREA_MIN_SHARE * total])
    council_layer = _council_layer(engine)
    within = [{"layer": "council" if groups is parents else state.layer.id, "code": code,
               "name": _name_in(council_layer if groups is parents else state, code),
               "share_of_responses": round(float(by_group[code]) / total, 4)} for code in chosen]
    label = ", ".join(w["name"] or w["code"] for w in within)
    rule = (f"campaign {campaign!r}: the {'councils' if groups is parents else 'areas'} holding "
            f"at least {CAMPAIGN_AREA_MIN_SHARE:.0%} of its responses")
    return Scope("campaign", state.areas[np.isin(groups, chosen)], label, rule, within)


def _name_in(state: LayerState | None, code: str) -> str:
    if state is None or code not in state.row_of:
        return ""
    return str(state.names[state.row_of[code]])
