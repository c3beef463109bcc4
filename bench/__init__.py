"""gridbench: the harness (hook specs, registry, runner, validation, reports, CLI)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gridbench")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+source"
