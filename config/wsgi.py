import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

from api.chunked import BufferChunkedBody

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

try:
    application = BufferChunkedBody(get_wsgi_application())
except ImproperlyConfigured as exc:
    # One clear line instead of a traceback (gunicorn loads this before forking).
    sys.exit(f"Configuration error: {exc}")
