"""Project wiring only: settings (read from the environment in one place),
URLs, the WSGI entry point and the gunicorn configuration. No app imports it."""
