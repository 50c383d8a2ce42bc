"""Tables and database sessions (SQLModel on SQLite or PostgreSQL)."""
