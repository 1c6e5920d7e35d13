"""The store for this process, opened on first use and shared by its requests."""

from flask import current_app

from capmap.storage import Store, open_store


def get_store() -> Store:
    """This app's Store (one connection pool per process)."""
    store = current_app.extensions.get("capmap_store")
    if store is None:
        store = open_store(current_app.config["DATABASE_URL"])
        current_app.extensions["capmap_store"] = store
    return store
