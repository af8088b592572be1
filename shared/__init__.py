"""Quotaflow's shared library: event schemas, the bus, outbox/inbox, settings, auth, observability.

Only code that every service needs lives here; no service's business rules do.
"""
