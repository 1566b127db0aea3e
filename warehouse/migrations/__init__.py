"""Alembic migrations of the warehouse schema (see :func:`warehouse.engine.upgrade`).

``env.py`` and ``versions/`` are loaded by Alembic from this folder, wherever the
package is installed; nothing here depends on the working directory.
"""
