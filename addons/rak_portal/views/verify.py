"""« Vérifier des documents » (seed 000): every document issued online carries a reference code
(and a QR code leading here); anyone can check that a presented document was issued by the RAK —
optionally by uploading the PDF, which must then be byte-for-byte the one issued (same SHA-256).

Public. Throttled per IP address (counted in the database, shared by every web process) so the
reference space cannot be enumerated; the titulaire's name is shown partly masked.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from rak_base.documents import document_verify, reference_display
from rak_base.http import client_ip
from rak_portal.verify_forms import (  # noqa: F401 - VERIFY_WINDOW: read by tests
    VERIFY_LIMIT,
    VERIFY_WINDOW,
    VerifyForm,
    verify_throttle_allow,
    verify_throttled_message,
)


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    base = "rak_portal/private_base.html" if getattr(request.user, "is_customer", False) else "rak_portal/base.html"
    context: dict = {"base_template": base}
    status = 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
    elif request.GET.get("ref"):  # arriving from a QR code: verify at once
        form = VerifyForm({"reference": request.GET["ref"]})
    else:
        form = VerifyForm()
    if form.is_bound and form.is_valid():
        if not verify_throttle_allow(client_ip(request), limit=VERIFY_LIMIT):
            context["throttled"] = verify_throttled_message()
            status = 429
        else:
            result = document_verify(form.cleaned_data["reference"], form.cleaned_data.get("file"))
            context["result"] = result
            context["reference"] = reference_display(result.reference)
            form = VerifyForm(initial={"reference": reference_display(result.reference)})
    elif form.is_bound:
        status = 400
    context["form"] = form
    response = render(request, "rak_portal/verify.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response
