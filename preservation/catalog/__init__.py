"""The catalog (Data Management): SQLAlchemy models, sessions, migrations, repositories.

The same models and migrations run on SQLite (embedded default) and PostgreSQL (scaled out):
only portable column types, enumerations as checked strings, lists as JSON.
"""
