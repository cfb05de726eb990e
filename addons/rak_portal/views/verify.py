"""« Vérifier des documents » (seed 000): every document issued online carries a reference code
(and a QR code leading here); anyone can check that a presented document was issued by the RAK —
optionally by uploading the PDF, which must then be byte-for-byte the one issued (same SHA-256).

Public. Throttled per IP address (counted in the database, shared by every web process) so the
reference space cannot be enumerated; the titulaire's name is shown partly masked.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from rak_base import clock
from rak_base.documents import document_verify, reference_display, reference_normalize
from rak_base.http import client_ip
from rak_base.throttle import throttle_hit

VERIFY_LIMIT = 20  # verifications per IP address and window
VERIFY_WINDOW = timedelta(minutes=15)


def _throttled_message(minutes: int) -> str:
    return ngettext(
        "Trop de vérifications depuis votre connexion. Pour votre sécurité, réessayez dans %(minutes)d minute "
        "ou adressez-vous à l'une de nos agences.",
        "Trop de vérifications depuis votre connexion. Pour votre sécurité, réessayez dans %(minutes)d minutes "
        "ou adressez-vous à l'une de nos agences.",
        minutes,
    ) % {"minutes": minutes}


class VerifyForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Code de référence du document"),
        max_length=40,
        error_messages={"required": gettext_lazy("Saisissez le code de référence imprimé sur le document.")},
        help_text=gettext_lazy("12 caractères, par exemple 7KQ2-M9XD-4TRA (sous le QR code du document)."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    file = forms.FileField(
        label=gettext_lazy("Fichier PDF du document (facultatif)"),
        required=False,
        help_text=gettext_lazy("Joignez le PDF reçu pour vérifier qu'il n'a pas été modifié."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
    )

    def clean_reference(self) -> str:
        value = reference_normalize(self.cleaned_data["reference"])
        if len(value) != 12:
            raise forms.ValidationError(
                gettext_lazy("Le code de référence compte 12 caractères (lettres et chiffres).")
            )
        return value

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        if upload.size > settings.UPLOAD_MAX_BYTES:
            raise forms.ValidationError(gettext_lazy("Le fichier est trop volumineux (2 Mo au plus)."))
        data = upload.read()
        if not data.startswith(b"%PDF"):
            raise forms.ValidationError(gettext_lazy("Le fichier joint n'est pas un PDF."))
        return data


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
        allowed = throttle_hit(
            key=f"verify:ip:{client_ip(request)}", limit=VERIFY_LIMIT, window=VERIFY_WINDOW, now=clock.now()
        )
        if not allowed:
            context["throttled"] = _throttled_message(int(VERIFY_WINDOW.total_seconds() // 60))
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
