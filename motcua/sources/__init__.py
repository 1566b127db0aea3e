"""Extractors: every place the one-stop system's dossier log can be read from.

Each source yields raw records exactly as read (see :mod:`motcua.sources.base`);
parsing and validation happen downstream, so nothing is lost on the way in.
"""

from motcua.sources.base import RAW_SCHEMA, RawBatch, Source
from motcua.sources.opener import open_source

__all__ = ["RAW_SCHEMA", "RawBatch", "Source", "open_source"]
