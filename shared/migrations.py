"""Each service's own Alembic history, with its own version table, run programmatically."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine


def alembic_config(script_location: Path, engine: Engine, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    config.attributes["version_table"] = version_table
    return config


def upgrade(script_location: Path, engine: Engine, version_table: str) -> None:
    command.upgrade(alembic_config(script_location, engine, version_table), "head")


def make_revision(script_location: Path, engine: Engine, version_table: str, message: str) -> None:
    """Autogenerate a revision against `engine` (upgraded to head first)."""
    config = alembic_config(script_location, engine, version_table)
    command.upgrade(config, "head")
    command.revision(config, message=message, autogenerate=True)


def run_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    from alembic import context

    config = context.config
    engine: Engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=config.attributes["version_table"],
            render_as_batch=engine.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
