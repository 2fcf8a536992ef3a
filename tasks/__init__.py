"""The task domain: the Task model and the state derived from it (tallies and
versions, kept by database triggers listed in triggers.py), the list's
filters and cursor pages, conditional and idempotent writes (services.py,
idempotency.py), the admin, and what the OpenAPI document says of it all.

Builds on `api`; knows nothing of how callers authenticate.
"""
