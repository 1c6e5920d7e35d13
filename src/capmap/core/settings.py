"""Settings and their defaults, in one table. Override them in instance/capmap.cfg, then with
CAPMAP_* environment variables (CAPMAP_DATABASE_URL, CAPMAP_TILES_URL, …), then the overrides
given to `load` (the app's test_config). The web app, the command line and the pipeline all read
one `load()`ed object, and the rules in it through `capmap.core.policy.from_settings`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from capmap.core.errors import InputError

DEFAULTS = {
    # Where the data lives: sqlite:///path (embedded default) or postgresql://user@host/db.
    "DATABASE_URL": "sqlite:///instance/capmap.sqlite",
    # Basemap tiles; "" for no basemap (tests, or an intranet with no tile server).
    "TILES_URL": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "TILES_ATTRIBUTION": '&copy; <a href="https://www.openstreetmap.org/copyright">'
                         "OpenStreetMap</a> contributors",
    # Largest request body accepted, in bytes (uploads included).
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    # Uploads (the finder's boundary file, admin imports) are read in a child process held to
    # these limits. Memory is address space above the child's start-up size. Measured peaks:
    # Scotland's 6,976 data zones (11 MB of GeoJSON) 97 MB as a finder query and 48 MB as an
    # import preview; the most the read limits let through (5 million vertices, in a zip) about
    # 490 MB. 1024 MB is twice that. Wall time stays under gunicorn's 30 s worker timeout.
    "UPLOAD_MEMORY_LIMIT_MB": 1024,
    "UPLOAD_CPU_SECONDS": 20,
    "UPLOAD_TIMEOUT_SECONDS": 25,
    "UPLOAD_FILE_LIMIT_MB": 512,     # largest file the reader may write (an unpacked shapefile)
    # Admin import previews never confirmed or cancelled are removed after this many seconds
    # (checked when the app starts and before each upload).
    "UPLOAD_MAX_AGE_S": 24 * 3600,
    # A TOML file of extra vocabulary aliases for every web import checked row by row
    # ([channel] "door knocking" = "event"; see capmap.io.vocab); None: the built-in aliases.
    "IMPORT_ALIASES_FILE": None,
    # Signs sessions. Read from the instance folder's secret_key file, created on first run.
    "SECRET_KEY": None,
}

DEFAULTS.update({
    # The neighbourhood layer that gives population; None picks the largest neighbourhood layer.
    "NEIGHBOURHOOD_LAYER": None,
    # Each worker holds layers, plans and public pins in memory and asks the database whether they
    # changed at most this often (ms): another process's writes show up to this late (a worker's
    # own at once), and a database outage is noticed as late. 0 asks on every request.
    "VERSION_CHECK_MS": 1000,
    # Map payloads built once for every worker and server: a Redis URL such as
    # "redis://127.0.0.1:6379" (pip install capmap[redis]); None keeps them per worker.
    "CACHE_REDIS_URL": None,
    "CACHE_KEY_PREFIX": "capmap-cache",
    # Largest polygon or list of areas (their total) the planscape accepts, in km² (Highland, the
    # largest council, is ~26,000); a list of codes also holds at most capmap.services.queries.MAX_CODES.
    "PLANSCAPE_MAX_KM2": 30_000.0,
    # Boundary sets from different sources disagree by metres along shared edges. The planscape
    # lists a plan apart, as touching the edge only, when its overlap is below SLIVER_MAX_SHARE
    # of the area asked about and of the plan, and narrower than SLIVER_MAX_WIDTH_M metres
    # (the width of the rectangle with the overlap's area and perimeter; capmap.spatial.slivers,
    # which says why 100 m: generalised boundaries move edges by tens of metres).
    "SLIVER_MAX_SHARE": 0.005,
    "SLIVER_MAX_WIDTH_M": 100.0,
    # A community council adjoins a proposed Local Place Plan's area (its notification list,
    # SSI 2021/353 reg. 4) when it touches it or comes within this many metres of it: two
    # outlines drawn by different hands leave gaps of a few metres where they meet.
    "LPP_ADJOIN_M": 5.0,
    # Public engagement figures: counts below this (0 included) show as "<5", rates withheld;
    # the others are rounded to the nearest PUBLIC_ROUND_TO, and every rate, share and gap is
    # worked out from rounded counts, so no two public answers subtract to a hidden count
    # (capmap.spatial.disclosure). Officers, planners and admins see exact figures.
    "SUPPRESS_BELOW": 5,
    "PUBLIC_ROUND_TO": 5,
    # The roles that see exact figures, response points and pins of every status at their exact
    # points (capmap.core.policy; an account limited to councils only in views confined to them).
    "EXACT_DATA_ROLES": ["officer", "planner", "admin"],
    # An area is an engagement gap when its rate is below this share of its council's rate.
    "GAP_RATIO": 0.5,
    # Plan coverage gaps: SIMD quintiles up to this count as deprived, and need a Locality Plan
    # covering at least LOCALITY_SHARE of their area.
    "DEPRIVED_QUINTILE": 1,
    "LOCALITY_SHARE": 0.5,
    # Every stored and asked-for coordinate must fall in this lon/lat box [minlon, minlat,
    # maxlon, maxlat] named REGION_NAME; None: capmap.core.crs.SCOTLAND (Scotland with a margin).
    "REGION_BOUNDS": None,
    "REGION_NAME": "Scotland",
})

DEFAULTS.update({
    # Logged-in sessions end after this many seconds (8 hours: a working day).
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Set True behind HTTPS so session cookies are never sent in clear.
    "SESSION_COOKIE_SECURE": False,
    # Failed logins allowed per account and per address (limits' syntax; ";" between several)
    # before the login answers 429; counted in RATELIMIT_STORAGE_URI. Only failures count.
    "LOGIN_LIMIT_PER_ACCOUNT": "10 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",
    # Behind a reverse proxy: how many proxies in front set X-Forwarded-For, -Proto and -Host
    # (werkzeug's ProxyFix). 0 trusts none of them: without a proxy a client could forge them.
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    "PROXY_FIX_X_HOST": 0,
    # Host headers the site answers to (Flask's check; others get 400): a list, or in
    # CAPMAP_TRUSTED_HOSTS comma-separated. ".example.scot" also allows its subdomains. None or
    # [] allows any host: then every absolute link (OGC, OpenAPI) follows whatever a client sends.
    "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
    # The address the public reaches the site at, e.g. "https://maps.example.scot": the base of
    # every absolute link whatever the request's Host; its host is trusted too. None: the Host.
    "PUBLIC_BASE_URL": None,
})

DEFAULTS.update({
    # Residents' pins.
    "PIN_DESCRIPTION_MAX": 1000,        # characters
    "PIN_CONTACT_MAX": 200,             # characters
    # The statuses of pins shown to the public: on the pin map, in exports, the OGC API and the
    # planscape alike. Resolved pins stay so residents see an issue was dealt with.
    "PIN_PUBLIC_STATUSES": ["published", "resolved"],
    "PIN_PUBLIC_MODE": "displace",      # "displace": moved PIN_OFFSET_MIN_M..MAX_M; "grid"
    "PIN_OFFSET_MIN_M": 75.0,           # metres (EPSG:27700), a guaranteed minimum
    "PIN_OFFSET_MAX_M": 150.0,
    # Displace mode: pins in one square of this size share a public point, placed by a keyed
    # hash of the square (capmap.spatial.privacy); at most about (MAX - MIN) / 1.4 metres.
    "PIN_SNAP_M": 20.0,
    "PIN_GRID_M": 250.0,                # grid mode: public point = centre of this BNG square
    "PIN_MAX_POINTS": 5000,             # above this many pins in view, send counts per cell
    "PIN_RATE_LIMIT": "5 per minute;30 per day",   # per client IP, on POST /pins
    "RATELIMIT_STORAGE_URI": "memory://",          # "redis://127.0.0.1:6379" for many workers
    "RATELIMIT_SWALLOW_ERRORS": True,   # a lost Redis must not stop residents reporting
    "RATELIMIT_KEY_PREFIX": "capmap",   # apps sharing one Redis for different sites differ here
    # Per client IP, over the planscape (API and finder) and /export downloads together: each
    # one overlays a polygon or builds a file. Counted in RATELIMIT_STORAGE_URI, else in
    # CACHE_REDIS_URL's Redis, else per process; over it the answer is 429 with Retry-After.
    "QUERY_RATE_LIMIT": "30 per minute;600 per day",
    # A drawn, uploaded or posted polygon is overlaid in a child process (app/costly.py): the
    # worker waits QUERY_TIMEOUT_S, the child may compute QUERY_CPU_SECONDS and add
    # QUERY_MEMORY_MB; over any of them the answer is 503 with Retry-After. False overlays in the
    # worker, unbounded (development only).
    "QUERY_ISOLATION": True,
    "QUERY_TIMEOUT_S": 5.0,
    "QUERY_CPU_SECONDS": 5,
    "QUERY_MEMORY_MB": 2048,
    "MODERATION_PAGE_SIZE": 20,
    # Email updates to residents who give an address (a pin's follow link by email when it is
    # published or resolved). None: no email is offered or sent. Messages are queued in the
    # database and sent by a thread in each app process every MAIL_SEND_EVERY_S seconds (0: no
    # thread); a failed attempt is retried MAIL_RETRY_S later, doubling, up to MAIL_MAX_ATTEMPTS.
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": "capmap@localhost",
    "SMTP_STARTTLS": True,
    "SMTP_TIMEOUT_S": 10.0,
    "MAIL_SEND_EVERY_S": 15.0,
    "MAIL_RETRY_S": 300.0,
    "MAIL_MAX_ATTEMPTS": 5,
    # Exports: the licence stated in every exported file (each boundary layer adds its own
    # attribution), and where files are built before streaming (None: the system temp folder).
    "EXPORT_LICENCE": "Open Government Licence v3.0",
    "EXPORT_TMP_DIR": None,
})


CONFIG_FILE = "capmap.cfg"
ENV_PREFIX = "CAPMAP_"


class SettingError(ValueError):
    """A setting with a value it may not have: names the setting, the value given and what was
    expected (`why`, when given, says what is wrong with it)."""

    def __init__(self, name: str, value, expected: str, why: str = "") -> None:
        self.name, self.value, self.expected = name, value, expected
        super().__init__(f"{name} is {value!r}{': ' + why if why else ''}; expected {expected}")


class Settings(Mapping):
    """The settings in force: read-only, looked up by name (settings["GAP_RATIO"])."""

    def __init__(self, values: Mapping, instance_path: Path) -> None:
        self._values = dict(values)
        self.instance_path = instance_path

    def __getitem__(self, key: str):
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def instance_folder(overrides: Mapping | None = None, environ: Mapping | None = None) -> Path:
    """The instance folder (uploads, secret key, capmap.cfg): INSTANCE_PATH of the overrides,
    else CAPMAP_INSTANCE_PATH, else ./instance."""
    environ = os.environ if environ is None else environ
    given = (overrides or {}).get("INSTANCE_PATH") or environ.get(f"{ENV_PREFIX}INSTANCE_PATH")
    return Path(given) if given else Path.cwd() / "instance"


def load(overrides: Mapping | None = None, *, environ: Mapping | None = None) -> Settings:
    """DEFAULTS, then the instance folder's capmap.cfg, then CAPMAP_* variables (read as JSON
    where they parse: `true`, `1`, `[1, 2]`), then `overrides`."""
    environ = os.environ if environ is None else environ
    folder = instance_folder(overrides, environ)
    values = dict(DEFAULTS)
    values.update(_config_file(folder / CONFIG_FILE))
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name != f"{ENV_PREFIX}INSTANCE_PATH":
            values[name[len(ENV_PREFIX):]] = _env_value(environ[name])
    values.update(overrides or {})
    return Settings(values, folder)


def _config_file(path: Path) -> dict:
    """The upper-case names a Python settings file sets, as Flask's from_pyfile reads them."""
    if not path.is_file():
        return {}
    scope: dict = {"__file__": str(path)}
    try:
        exec(compile(path.read_bytes(), str(path), "exec"), scope)  # the operator's own file
    except SyntaxError as exc:
        raise InputError(f"{path}: line {exc.lineno}: {exc.msg}; expected Python assignments "
                         "such as GAP_RATIO = 0.4") from None
    except Exception as exc:  # noqa: BLE001 - whatever the file does wrong, say where
        raise InputError(f"{path}: {type(exc).__name__}: {exc}; expected Python assignments "
                         "such as GAP_RATIO = 0.4") from None
    return {k: v for k, v in scope.items() if k.isupper()}


def _env_value(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw
