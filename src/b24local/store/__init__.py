"""Storage: tables, the engine, migrations and small repositories.

SQLAlchemy Core, dialect-neutral. Anything specific to SQLite or PostgreSQL
lives in :mod:`b24local.store.engine` and nowhere else.
"""
