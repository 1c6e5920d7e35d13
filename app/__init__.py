"""The capmap web app."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from app import (
    accounts,
    api,
    assets,
    auth,
    councillors,
    dashboard,
    editing,
    errors,
    exports,
    finder,
    follow,
    hosts,
    i18n,
    imports,
    limits,
    lpp,
    lpp_prepare,
    maps,
    ogc,
    outcomes,
    pins,
    public,
    reports,
    security,
    sentences,
    tiles,
)
from capmap.core import settings
from capmap.core.policy import from_settings
from capmap.io import isolated


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/capmap.cfg, then CAPMAP_* variables, then
    `test_config`. The instance folder (uploads, secret key) is ./instance unless
    CAPMAP_INSTANCE_PATH says otherwise. Nothing touches the database until a request needs it."""
    loaded = settings.load(test_config)
    app = Flask(__name__, instance_path=str(loaded.instance_path), instance_relative_config=True)
    # The same object the command line and the pipeline read (capmap.core.settings.load); views read
    # it back from app.config, and its rules through app.store.get_policy().
    app.config.from_mapping(loaded)
    # The rules, checked at start-up: a bad PIN_PUBLIC_MODE or REGION_BOUNDS stops the app here.
    app.extensions["capmap_policy"] = from_settings(app.config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    _trust_proxy(app)
    hosts.init_app(app)
    errors.register(app)
    csrf.init_app(app)
    # The JSON API only reads (POST /api/planscape sends a query, not a change): no CSRF token.
    csrf.exempt(api.bp)
    auth.init_app(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(finder.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(ogc.bp)  # read-only
    app.register_blueprint(ogc.bp)
    app.register_blueprint(ogc.api_docs_bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(editing.bp)
    app.register_blueprint(accounts.bp)
    app.register_blueprint(imports.bp)
    imports.purge_stale_uploads(app)
    app.register_blueprint(lpp.bp)
    app.register_blueprint(lpp_prepare.bp)
    app.register_blueprint(councillors.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(outcomes.bp)  # before exports: /export/outcomes.csv is its own
    app.register_blueprint(exports.bp)
    pins.init_app(app)
    follow.init_app(app)
    tiles.init_app(app)
    limits.init_app(app)
    security.init_app(app)
    app.add_template_global(maps.spot, "spot_map")
    # Templates mark their text with _(); Flask-Babel's catalogues translate it (app/i18n.py).
    i18n.init_app(app)
    sentences.init_app(app)
    # The upload reader's fork server starts with the worker, not with its first upload.
    isolated.prestart()
    return app


csrf = CSRFProtect()


def _trust_proxy(app: Flask) -> None:
    """Behind a reverse proxy, take the client's address, scheme and host from the X-Forwarded-*
    headers set by that many proxies (PROXY_FIX_*; 0, the default, trusts none: a client could
    forge them)."""
    counts = {key: int(app.config[f"PROXY_FIX_{key.upper()}"]) for key in ("x_for", "x_proto", "x_host")}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)


def _instance_secret(folder: Path) -> str:
    """A secret key kept in the instance folder, so every worker and restart shares it."""
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: workers starting together
        # never read a half-written key, and the first link wins.
        fd, draft = tempfile.mkstemp(dir=folder, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text(encoding="ascii").strip()
