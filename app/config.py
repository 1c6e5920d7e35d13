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

DEFAULTS.update({
    # The neighbourhood layer that gives population; None picks the largest neighbourhood layer.
    "NEIGHBOURHOOD_LAYER": None,
    # Largest polygon the planscape accepts, in km² (Highland, the largest council, is ~26,000).
    "PLANSCAPE_MAX_KM2": 30_000.0,
    # Public engagement figures: counts below this show as "<5" and their rates are withheld.
    "SUPPRESS_BELOW": 5,
    # An area is an engagement gap when its rate is below this share of its council's rate.
    "GAP_RATIO": 0.5,
    # Plan coverage gaps: SIMD quintiles up to this count as deprived, and need a Locality Plan
    # covering at least LOCALITY_SHARE of their area.
    "DEPRIVED_QUINTILE": 1,
    "LOCALITY_SHARE": 0.5,
})

DEFAULTS.update({
    # Logged-in sessions end after this many seconds (8 hours: a working day).
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Set True behind HTTPS so session cookies are never sent in clear.
    "SESSION_COOKIE_SECURE": False,
})
