"""Who the caller is: bearer tokens, log in and log out, the failed-login
throttle, and the admin site that shares that throttle.

Builds on `api`; knows nothing of tasks.
"""
