"""The HTTP conventions every endpoint shares.

Problem documents (RFC 9457) and the exception handler and renderer that
produce them, the Django error views, the health probes and the docs, the
request-body and CSP middleware, the chunked-body WSGI wrapper, the OpenAPI
schema machinery, and the strict input fields the apps' serializers use.
It imports no other app of the project: `accounts` and `tasks` build on it.
"""
