"""Alembic revisions of the warehouse schema, oldest first (``0001``, ``0002``, …)."""
