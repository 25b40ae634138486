"""The WSGI application, for `alliance serve` or any other WSGI server."""

import os

from django.core.wsgi import get_wsgi_application

from alliance.__main__ import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
load_settings_or_exit()
application = get_wsgi_application()
