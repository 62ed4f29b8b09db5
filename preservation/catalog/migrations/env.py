"""Alembic environment: runs on the engine handed over by ``Catalog.upgrade``."""

from alembic import context
from sqlalchemy import create_engine

from preservation.catalog.models import Base

config = context.config
engine = config.attributes.get("engine") or create_engine(
    config.get_main_option("sqlalchemy.url") or "")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
