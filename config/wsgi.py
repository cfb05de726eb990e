import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # django.core.wsgi.get_wsgi_application's, then the project's handler

from rak_base.wsgi import RakWSGIHandler  # noqa: E402 - the addons are importable once the settings are loaded

application = RakWSGIHandler()
