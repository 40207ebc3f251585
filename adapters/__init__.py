"""The world behind the domain's ports: SQLAlchemy Core tables, repositories, settings."""
