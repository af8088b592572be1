"""A tiny service used by the platform tests: a quota per city, raised by `alerts.uplift_requested`.

It is wired exactly like a real service (tables + migrations, bootstrap, API, consumer), so the
contract tests exercise the same outbox → bus → inbox path the four services use.
"""
