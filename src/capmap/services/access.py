"""Who may change what, and whose figures are exact to whom, for accounts limited to councils.

An account's `councils` (empty: every council) limit it: it edits only plans of those councils,
and its exact-data roles (capmap.core.policy: Policy.exact_roles) apply only to views that reach no other
council. Anywhere else it sees what the public sees.
"""

from __future__ import annotations

from collections.abc import Iterable

from capmap.core.policy import EXACT_ROLES
from capmap.services.engine import Engine

EDIT_ROLES = ("officer", "planner", "admin")
REMOVE_ROLES = ("planner", "admin")


def in_scope(councils: frozenset[str], council_code: str | None) -> bool:
    """True if an account limited to `councils` may act on a record of `council_code` (a plan
    with no council is then out of scope: it may be anyone's)."""
    return not councils or (council_code or "") in councils


def may_edit(roles: Iterable[str], councils: frozenset[str], council_code: str | None,
             needed: Iterable[str] = EDIT_ROLES) -> bool:
    """True if the account holds one of `needed` and the record's council is in its scope."""
    return bool(set(roles) & set(needed)) and in_scope(councils, council_code)


def scoped_roles(roles: frozenset[str], councils: frozenset[str],
                 view_councils: frozenset[str] | None,
                 exact_roles: frozenset[str] = EXACT_ROLES) -> frozenset[str]:
    """The roles that apply to one view: all of them for an account of every council, or when
    every council the view reaches is the account's; otherwise none that see exact data.
    `view_councils` None: the view's reach is not known (a box), so it is not confined."""
    if not councils or (view_councils and view_councils <= councils):
        return roles
    return roles - exact_roles


def layer_councils(engine: Engine, layer_id: str, code: str | None = None) -> frozenset[str]:
    """The councils a layer (or one area of it) lies in: its areas' own codes for a council
    layer, their parent codes otherwise; an area without a parent reaches an unknown council
    (written as "")."""
    state = engine.layer(layer_id)
    areas = state.areas
    if code is not None:
        areas = areas[areas["code"] == code]
    if state.layer.kind == "council":
        return frozenset(areas["code"])
    parents = set(areas["parent_code"].to_numpy(dtype=object).tolist())
    return frozenset("" if p is None or p != p else str(p) for p in parents)
