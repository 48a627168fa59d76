"""Alembic environment of magcycle's traceability schema: it runs on the connection that
:func:`magcycle.trace.db.migrate` opened, inside that connection's transaction."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
context.run_migrations()
