import os

from django.core.wsgi import get_wsgi_application

from config.chunked import BufferChunkedBody

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = BufferChunkedBody(get_wsgi_application())
