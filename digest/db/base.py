"""The declarative base every domain's models derive from, with stable constraint names.

The shared column types and time helpers live in ``digest.db.types`` (Core only, for the light
commands) and are re-exported here for the models.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from digest.db.types import NAMING_CONVENTION, UTCDateTime, iso, utcnow

__all__ = ["NAMING_CONVENTION", "Base", "UTCDateTime", "iso", "utcnow"]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
