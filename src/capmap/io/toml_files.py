"""Reading the TOML files that define imports: one message for a file that cannot be read."""

from __future__ import annotations

import tomllib
from pathlib import Path

from capmap.core.errors import ConfigError


def read_toml(path: Path) -> dict:
    """The settings in `path`; ConfigError naming the file when it cannot be read or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read ({exc.__class__.__name__})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML ({exc})") from exc
