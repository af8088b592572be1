"""Fixtures shared by every test suite: hosts on SQLite, on the real PostgreSQL, on the real Kafka."""

pytest_plugins = ["tests.fixtures"]
