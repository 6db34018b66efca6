import os

from django.core.wsgi import get_wsgi_application

from grenier.core.collector import settle_on_requests

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grenier.settings")

application = get_wsgi_application()

# What a worker builds to serve its pages set aside from the collector's full passes (docs/PERFORMANCE.md).
settle_on_requests()
