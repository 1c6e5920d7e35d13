"""GDAL settings that must be in place before pyogrio or fiona is first imported.

Uploaded files are untrusted. GDAL can be told by a file's content to open other local files
(an OGR VRT naming /etc/passwd as its source, a GDALG pipeline) or to fetch a URL (a VRT naming
/vsicurl/..., a GeoJSON "crs" of type "link" that GDAL downloads with libcurl). These settings
close those doors for the whole process; `capmap.io.readers` adds content sniffing and a check
of the driver GDAL chose on top, so no single layer has to be perfect.

Environment variables are read by GDAL through CPLGetConfigOption, so they reach both pyogrio's
and fiona's bundled copies of GDAL. GDAL_SKIP only acts when drivers are registered (at import),
which is why `capmap/__init__.py` calls `configure()` before anything imports pyogrio.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

# Drivers capmap reads or writes (LIBKML is the one that reads KML ExtendedData attributes).
KEPT_DRIVERS = (
    "GeoJSON", "GeoJSONSeq", "GPKG", "ESRI Shapefile", "KML", "LIBKML", "FlatGeobuf", "CSV",
    "MEM", "Memory",
)

# Every other driver in the GDAL that pyogrio ships (3.12), unregistered at start-up. GDAL warns
# about names it does not know, so the list holds exactly that build's names (fiona's older GDAL
# lacks a few; configure() filters out its log lines about them). GDAL_SKIP splits on spaces
# and commas, so the harmless "MapInfo File" cannot be listed; the readers' driver check refuses
# it instead. The dangerous ones:
#   VRT, OGR_VRT     XML that names other files or URLs as its source
#   GDALG            JSON that runs a GDAL pipeline over any path it names
#   HTTP WFS OAPIF OGCAPI CSW Carto AmigoCloud Elasticsearch EEDA NGW PLSCENES AIVector
#                    network services
#   GPSBabel         runs an external program; ADBC loads a shared library named in the file
#   SQLite           a plain SQLite file may carry VirtualOGR tables naming other files
#   GML              follows xlink and schema references; MBTiles/PMTiles/PDF open remote tiles
SKIPPED_DRIVERS = (
    "VRT", "OGR_VRT", "GDALG", "HTTP", "WFS", "OAPIF", "OGCAPI", "CSW", "Carto", "AmigoCloud",
    "Elasticsearch", "EEDA", "NGW", "PLSCENES", "AIVector", "GPSBabel", "ADBC", "SQLite", "GML",
    "MBTiles", "PMTiles", "PDF", "OSM", "GTFS", "ESRIJSON", "TopoJSON", "JSONFG", "MVT", "MapML",
    "GeoRSS", "GPX", "DXF", "DGN", "AVCBin", "AVCE00", "EDIGEO", "Idrisi", "JML", "LVBAG",
    "MiraMonVector", "ODS", "XLSX", "OGR_GMT", "OGR_PDS", "OpenFileGDB", "PCIDSK", "PDS4",
    "PGDUMP", "S57", "SXF", "Selafin", "VDV", "VFK", "VICAR", "WAsP",
)

# A file name no URL can equal: /vsicurl/ (and /vsis3/, /vsigs/, ... built on it) only opens the
# one file named by CPL_VSIL_CURL_ALLOWED_FILENAME when that option is set.
_NO_NETWORK_FILE = "/capmap/network-access-is-disabled"

# libcurl refuses a proxy with an unknown scheme before it connects anywhere, so every HTTP fetch
# GDAL makes outside /vsicurl/ (OGRSpatialReference::importFromUrl for a GeoJSON "link" crs, the
# network drivers) fails at once; it also stops a proxy from the host's environment being used.
_DEAD_PROXY = "capmap-no-network://0.0.0.0:1"

# Settings that take effect whenever GDAL next reads them (at open or fetch time).
RUNTIME_OPTIONS: dict[str, str] = {
    "CPL_VSIL_CURL_ALLOWED_FILENAME": _NO_NETWORK_FILE,
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".capmap-no-network",
    "GDAL_HTTP_PROXY": _DEAD_PROXY,
    "GDAL_HTTPS_PROXY": _DEAD_PROXY,
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_NETRC": "NO",
    # Do not list the directory an opened file sits in: drivers then cannot discover or open
    # siblings they were not asked for (they still stat the exact sidecars they need, e.g. .prj).
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    # Largest single GeoJSON feature, in MB, the parser will hold in memory (GDAL's default is
    # 200). 100 MB of JSON is well past the readers' default vertex limit per feature.
    "OGR_GEOJSON_MAX_OBJ_SIZE": "100",
    # Never write .aux.xml side files next to what was read.
    "GDAL_PAM_ENABLED": "NO",
    # LIBKML: never fetch styles a KML file refers to by URL (GDAL's default, pinned).
    "LIBKML_RESOLVE_STYLE": "NO",
    # GeoPackage (SQLite): keep GDAL's SQL functions that reach outside the file unusable from
    # triggers and views stored in it. These are GDAL's defaults, pinned so that the host's
    # environment cannot turn them on.
    "ALLOW_OGR_SQL_FUNCTIONS_FROM_TRIGGER_AND_VIEW": "NO",
    "OGR_SQLITE_ALLOW_EXTERNAL_ACCESS": "NO",
}

# Settings read once when drivers are registered or PROJ starts.
STARTUP_OPTIONS: dict[str, str] = {
    "GDAL_SKIP": " ".join(SKIPPED_DRIVERS),
    # PROJ fetches missing transformation grids from its CDN when this is on.
    "PROJ_NETWORK": "OFF",
}


def configure() -> None:
    """Set the process-wide GDAL options that keep file reading local and bounded."""
    for key, value in {**STARTUP_OPTIONS, **RUNTIME_OPTIONS}.items():
        os.environ[key] = value
    # fiona's older GDAL lacks some skipped drivers and logs a warning for each when it starts.
    logging.getLogger("fiona._env").addFilter(_not_a_missing_skipped_driver)
    if "pyogrio" in sys.modules:
        _apply_to_loaded_pyogrio()
    if "pyproj" in sys.modules:
        # pyproj's PROJ context may already exist, having read PROJ_NETWORK when it was made.
        import pyproj.network

        pyproj.network.set_network_enabled(active=False)


def _not_a_missing_skipped_driver(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not (message.startswith("Unable to find driver") and "GDAL_SKIP" in message)


def _apply_to_loaded_pyogrio() -> None:
    # pyogrio was imported before configure() ran, so its GDAL has already read the environment
    # it started with. Config options set now are seen at the next open or fetch; GDAL_SKIP only
    # acts when drivers are registered, so registration is run again, which unregisters the
    # skipped drivers (registering an already present driver is a no-op).
    import pyogrio

    pyogrio.set_gdal_config_options({**STARTUP_OPTIONS, **RUNTIME_OPTIONS})
    try:
        from pyogrio._ogr import _register_drivers
    except ImportError:  # a pyogrio without this private hook: the readers' driver check remains
        return
    with warnings.catch_warnings():
        # GDAL warns for each skipped name this build does not have; that is expected here.
        warnings.filterwarnings("ignore", message="Unable to find driver", category=RuntimeWarning)
        _register_drivers()
