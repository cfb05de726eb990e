"""Private files streamed by nginx (X-Accel-Redirect) once the app has checked who asks.

``[server] x_accel_redirect`` (rak.conf) names nginx's ``internal`` location that aliases
``MEDIA_ROOT`` (deploy/nginx/rak.conf: ``location /_private/ { internal; alias
/opt/rak/var/private/; }``). When it is set, the view that authorised the request answers with an
empty response carrying ``X-Accel-Redirect: /_private/<file name>``: nginx then sends the file
itself (sendfile, ranges) instead of a gunicorn thread reading it. Empty (the default, bin/run and
the tests): the app streams the file (``FileResponse``). Only files of a local ``FileSystemStorage``
rooted at ``MEDIA_ROOT`` qualify; any other storage (S3) keeps its own way of serving."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header


def x_accel_response(field_file, *, content_type: str, as_attachment: bool, filename: str) -> HttpResponse | None:
    """The empty response nginx turns into the file, or None when X-Accel-Redirect does not apply
    (setting empty, or the file not on the local private directory). 404 when the file is gone."""
    prefix = getattr(settings, "X_ACCEL_REDIRECT", "")
    storage = field_file.storage
    if not prefix or not isinstance(storage, FileSystemStorage):
        return None
    if Path(storage.location).resolve() != Path(settings.MEDIA_ROOT).resolve():
        return None
    if not storage.exists(field_file.name):
        raise Http404("Fichier introuvable")
    response = HttpResponse(content_type=content_type)
    response["X-Accel-Redirect"] = quote(f"{prefix}{field_file.name}")
    disposition = content_disposition_header(as_attachment, filename)
    if disposition:
        response["Content-Disposition"] = disposition
    return response
