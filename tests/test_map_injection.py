"""Text shown on folium maps can neither become markup nor run as a template on the server.

folium renders each element's output again as a Jinja template, so text reaching a map must not
keep its braces: an area name "{{ … }}" imported from a file would otherwise run in the server.
"""

from __future__ import annotations

import geopandas as gpd
import shapely

from capmap.maps.render import Assets, add_action_markers, add_boundaries, add_plans, base_map, render

ASSETS = Assets("/vendor/leaflet.js", "/vendor/leaflet.css", "/vendor/jquery.js")
BOX = shapely.box(-3.6, 56.2, -3.5, 56.3)
PROBE = "{{ cycler.__init__.__globals__.os.getcwd() }} {{ 6*7 }} {% if 1 %}yes{% endif %} <b>"


def _script(build) -> str:
    fmap = base_map(BOX.bounds, ASSETS, None)
    build(fmap)
    return render(fmap).script


def _inert(script: str) -> None:
    script = script.replace("\\u0026", "&")   # folium writes & as \u0026 in some places
    assert "getcwd()" in script, "the probe text is missing: the test would prove nothing"
    assert " 6*7 " in script and "{{" not in script and "{%" not in script
    assert "<b>" not in script and "%&#125;yes" in script   # the {% if %} stayed text


def test_area_names_and_layer_names_are_not_templates(tmp_path):
    areas = gpd.GeoDataFrame({"code": ["A"], "name": [PROBE], "simd_quintile": [1]},
                             geometry=[BOX], crs="EPSG:4326")
    script = _script(lambda fmap: add_boundaries(fmap, PROBE, "council", areas))
    _inert(script)
    assert str(tmp_path.cwd()) not in script
    # The braces travel as character references (JSON-escaped in the script) the browser shows.
    assert "#123;&#123; 6*7 &#125;" in script.replace("\\u0026", "&")


def test_plan_and_action_text_is_not_a_template():
    plans = gpd.GeoDataFrame({"type": ["locality_plan"], "title": [PROBE], "owner": [PROBE],
                              "status": ["{{ 6*7 }}"]}, geometry=[BOX], crs="EPSG:4326")
    _inert(_script(lambda fmap: add_plans(fmap, plans)))
    actions = gpd.GeoDataFrame({"title": [PROBE], "status": ["in_progress"], "overdue": [True]},
                               geometry=[shapely.Point(-3.55, 56.25)], crs="EPSG:4326")
    _inert(_script(lambda fmap: add_action_markers(fmap, actions, {"in_progress": "#000000"})))
