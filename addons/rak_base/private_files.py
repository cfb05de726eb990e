"""Serving private files (``STORAGES["default"]``: ``MEDIA_ROOT`` = ``var/private``, or an S3 bucket
with ``[storage] backend = s3``; never served by the web server or the bucket directly).

Uploaded files (reading photos, request attachments) are only ever sent by a view that has
checked who asks: the owner (its queryset is filtered on ``request.customer``, so another
customer's id is a 404) or staff with the view permission on the record. That view ends with
``private_file_response(record.photo)``, which streams the file with the type recorded by
content validation (from the stored extension, see ``rak_base.uploads``), ``nosniff``, no
caching by shared caches, and ``inline`` or ``attachment`` disposition — or, in production behind
nginx (``[server] x_accel_redirect``), hands the sending to nginx (``rak_base.x_accel``). From an
S3 bucket the file is streamed through the view too, never a presigned URL: such a URL works for
anyone who holds it until it expires, and a redirect to the bucket's host would leave these
headers behind (and be refused by the portal's CSP, ``img-src 'self'``, for reading photos).
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.http import FileResponse, Http404
from django.http.response import HttpResponseBase

from rak_base.uploads import KINDS
from rak_base.x_accel import x_accel_response

_BY_EXTENSION = {kind.extension: kind.mime for kind in KINDS.values()}


def _download_name(name: str | None, extension: str, content_type: str) -> str | None:
    """The name a file is saved under, its extension made to match what the file is: a customer's
    « facture.html » that is a PDF by content (stored as .pdf) downloads as « facture.pdf », never
    as an .html file holding whatever the PDF carried; « x.pdf\x00.html » as « x.pdf.pdf »."""
    if not name or not extension:
        return name
    if (mimetypes.guess_type(name)[0] or "") == content_type:
        return name
    stem = PurePosixPath(name).stem if PurePosixPath(name).suffix else name
    return f"{stem or 'fichier'}.{extension}"


def private_file_response(
    field_file, *, as_attachment: bool = False, download_name: str | None = None
) -> HttpResponseBase:
    """A streamed response for a ``FieldFile`` the caller has already authorised. 404 when the
    field is empty or the file is gone from storage."""
    if not field_file:
        raise Http404("Fichier introuvable")
    extension = PurePosixPath(field_file.name).suffix.lstrip(".").lower()
    content_type = _BY_EXTENSION.get(extension) or mimetypes.guess_type(field_file.name)[0]
    content_type = content_type or "application/octet-stream"
    filename = _download_name(download_name, extension, content_type) or PurePosixPath(field_file.name).name
    # production behind nginx: an empty answer, nginx streams the file (rak_base.x_accel)
    response: HttpResponseBase | None = x_accel_response(
        field_file, content_type=content_type, as_attachment=as_attachment, filename=filename
    )
    if response is None:
        try:
            handle = field_file.storage.open(field_file.name, "rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404("Fichier introuvable") from exc
        response = FileResponse(handle, as_attachment=as_attachment, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
