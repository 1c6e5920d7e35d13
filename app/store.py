"""The store and spatial engine for this process, opened on first use and shared by requests."""

from flask import current_app

from capmap.core.cache import SharedCache
from capmap.core.policy import Policy, from_settings
from capmap.services.engine import Engine
from capmap.storage import Store, open_store


def get_store() -> Store:
    """This app's Store (one connection pool per process)."""
    store = current_app.extensions.get("capmap_store")
    if store is None:
        store = open_store(current_app.config["DATABASE_URL"])
        current_app.extensions["capmap_store"] = store
    return store


def get_policy() -> Policy:
    """The publication rules of this app's settings (capmap.core.policy), as the CLI reads them;
    made once, when the app is (settings do not change while it runs)."""
    policy = current_app.extensions.get("capmap_policy")
    if policy is None:
        policy = current_app.extensions["capmap_policy"] = from_settings(current_app.config)
    return policy


def get_engine() -> Engine:
    """This app's Engine: layers and plans in memory, reloaded when the store changes."""
    engine = current_app.extensions.get("capmap_engine")
    if engine is None:
        engine = Engine(get_store(), current_app.config["NEIGHBOURHOOD_LAYER"],
                        check_every=float(current_app.config["VERSION_CHECK_MS"]) / 1000)
        current_app.extensions["capmap_engine"] = engine
    return engine


def get_shared_cache() -> SharedCache | None:
    """The Redis cache shared by every worker (CACHE_REDIS_URL), or None when it is off."""
    url = current_app.config["CACHE_REDIS_URL"]
    if not url:
        return None
    cache = current_app.extensions.get("capmap_shared_cache")
    if cache is None:
        cache = SharedCache(url, current_app.config["CACHE_KEY_PREFIX"], get_store().database_id)
        current_app.extensions["capmap_shared_cache"] = cache
    return cache
