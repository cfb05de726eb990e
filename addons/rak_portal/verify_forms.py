"""« Vérifier un document »: the form and the per-address throttle, shared by the portal's page
(rak_portal.views.verify) and the API (POST /api/v1/documents/verify/): same keys, same limits."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy, ngettext

from rak_base import clock
from rak_base.documents import reference_normalize
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


def verify_throttle_allow(ip: str, *, limit: int | None = None) -> bool:
    """Count one verification from ``ip``; False once ``limit`` (``VERIFY_LIMIT``) is reached in the window."""
    return throttle_hit(key=f"verify:ip:{ip}", limit=limit or VERIFY_LIMIT, window=VERIFY_WINDOW, now=clock.now())


def verify_throttled_message() -> str:
    return _throttled_message(int(VERIFY_WINDOW.total_seconds() // 60))
