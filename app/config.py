"""Settings and their defaults, in one table. Override them in instance/capmap.cfg, then with
CAPMAP_* environment variables (CAPMAP_DATABASE_URL, CAPMAP_TILES_URL, …), then test_config."""

DEFAULTS = {
    # Where the data lives: sqlite:///path (embedded default) or postgresql://user@host/db.
    "DATABASE_URL": "sqlite:///instance/capmap.sqlite",
    # Basemap tiles; "" for no basemap (tests, or an intranet with no tile server).
    "TILES_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "TILES_ATTRIBUTION": '&copy; <a href="https://www.openstreetmap.org/copyright">'
                         "OpenStreetMap</a> contributors",
    # Largest request body accepted, in bytes (uploads included).
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    # Signs sessions. Read from the instance folder's secret_key file, created on first run.
    "SECRET_KEY": None,
}
