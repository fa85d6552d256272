"""Alembic environment: runs Hearth's migrations on the connection hearth.storage.schema passes."""

from alembic import context

from hearth.storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Hearth's migrations run through `hearth migrate` (hearth.storage.schema.migrate), "
        "which passes the connection; there is no alembic.ini"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
