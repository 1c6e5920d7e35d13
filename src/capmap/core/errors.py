"""One error tree: each error carries an HTTP status and a message safe to show to the public."""

from __future__ import annotations

import errno


class CapmapError(Exception):
    """Base error. `message` is written for the person who caused it; `status` is the HTTP status."""

    status = 500

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def to_dict(self) -> dict:
        """The JSON body an API answers with."""
        body: dict = {"error": type(self).__name__, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InputError(CapmapError):
    """The request or file could not be read at all (wrong format, unparseable, too large)."""

    status = 400


class ValidationError(CapmapError):
    """The input was read but breaks a rule (empty geometry, duplicate codes, out of region)."""

    status = 422


class RowsRejected(ValidationError):
    """Rows of an import were rejected and rejects were not allowed: nothing was stored.
    `report` is the import's report, listing every rejected row."""

    def __init__(self, message: str, report) -> None:
        super().__init__(message, details=[f"row {row}: {why}" for row, why in report.rejected])
        self.report = report


class NotFound(CapmapError):
    """A named layer, plan, area or record does not exist."""

    status = 404


class TooLarge(CapmapError):
    """An upload or file is over a configured limit."""

    status = 413


class UnsupportedMediaType(CapmapError):
    """A body sent in a media type the route does not read (JSON routes take JSON only)."""

    status = 415


class ConfigError(CapmapError):
    """A layer definition or setting is wrong; the operator must fix it."""

    status = 500


class StoreUnavailable(CapmapError):
    """The database cannot be reached; callers retry later."""

    status = 503


class QueryTooCostly(CapmapError):
    """A query went over its CPU, memory or wall-clock limit and was stopped; a simpler one, or
    the same later, may be answered."""

    status = 503


class StoreFull(CapmapError):
    """The database has no room left (disk or size limit); the write was rolled back."""

    status = 507


class SchemaError(CapmapError):
    """The database schema is missing or at a version this code does not speak."""

    status = 503


class DiskFull(CapmapError):
    """A file could not be written for want of disk space; what was begun has been removed."""

    status = 507


# A full disk or quota. (EFBIG is the reader child's own file-size limit: TooLarge, not this.)
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
_NO_SPACE_WORDS = ("no space left on device", "disk quota exceeded")


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it was raised from, is a full disk: an OSError, or a library's
    error whose text says so (GDAL reports it through pyogrio's own exception types)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
            return True
        if any(word in str(exc).lower() for word in _NO_SPACE_WORDS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False
