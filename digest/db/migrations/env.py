"""Alembic environment: runs migrations on the engine handed over by digest.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from digest.db.base import Base
from digest.db.models import import_all_models

import_all_models()
engine: Engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
