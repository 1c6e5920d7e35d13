"""capmap: the planscape of Scottish community planning on one map."""

from capmap.io import gdal_env as _gdal_env

# GDAL reads its driver list and network settings when it is first loaded, so the safe settings
# must be in place before anything imports pyogrio or fiona.
_gdal_env.configure()

__version__ = "0.1.0"
