"""A file is what its name says: the name endings each export format may be written under.

An export named on the command line (`-o dz.csv`) or by a caller is checked before anything is
built. CSV is the one format with two forms: a name ending .csv gets the plain table (one layer
always fits one CSV), and a name ending .zip gets the table with README.txt (licence, attribution
and filters: a plain CSV has no place for them). A Shapefile is several files, so it is always a
.zip. Any other ending is refused with the name to use instead.
"""

from __future__ import annotations

from pathlib import Path

from capmap.core.errors import InputError

# Per format: the endings accepted (the first one is the one suggested) and what the file is.
ENDINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "geojson": ((".geojson", ".json"), "GeoJSON text"),
    "gpkg": ((".gpkg",), "a GeoPackage"),
    "shp": ((".shp.zip", ".zip"), "a .zip of the Shapefile's .shp, .shx, .dbf, .prj and .cpg "
                                  "files with README.txt"),
    "kml": ((".kml",), "KML"),
    "csv": ((".csv", ".csv.zip", ".zip"), "a plain CSV (.csv), or a .zip of the CSV with "
                                          "README.txt"),
    "csv-lonlat": ((".csv", ".csv.zip", ".zip"), "a plain CSV (.csv), or a .zip of the CSV "
                                                 "with README.txt"),
    "fgb": ((".fgb",), "FlatGeobuf"),
}


def check_output_name(fmt: str, path: Path | str) -> None:
    """Refuse a file name whose ending does not say what a `fmt` export is."""
    name = Path(path).name
    endings, what = ENDINGS[fmt]
    if name.lower().endswith(endings):
        return
    stem = name.split(".")[0] or "export"
    raise InputError(f"{name} does not end in {' or '.join(endings)}: a {fmt} export is {what}; "
                     f"name it {stem}{endings[0]}")


def is_plain_csv(fmt: str, path: Path | str) -> bool:
    """Whether a CSV export goes out as the plain table (named .csv) rather than a .zip."""
    return fmt in ("csv", "csv-lonlat") and Path(path).name.lower().endswith(".csv")
