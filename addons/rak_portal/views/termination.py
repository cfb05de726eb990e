"""« Suivre ma demande de résiliation »: on the request's page, while the request waits for
« Communiquer l'index final de votre compteur », a small form (the dossier, the index, a photo of the
index) sends the customer's own final index; once the request is accepted, the page shows each
dossier's final bill, the deposit set against it and the balance (débiteur / créditeur).

The request is looked up through the logged-in customer (another customer's number: 404); the
index and photo go through ``rak_requests.termination.termination_final_reading_submit`` (the checks
of « Relève de mon index »: index never below the last one, photo checked by content and size, an
implausible index confirmed with « Je confirme cet index »)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.uploads import UploadRefused
from rak_billing.readings import (
    PHOTO_REQUIRED,
    IndexBelowPrevious,
    InvalidValue,
    ReadingError,
    ReadingNeedsConfirmation,
)
from rak_portal.views.account import CustomerRequest, customer_required
from rak_portal.views.requests import _render_detail
from rak_requests.models import RequestType, ServiceRequest
from rak_requests.selectors import customer_request
from rak_requests.termination import termination_final_reading_submit, termination_pending_dossiers

PHOTO_ACCEPT = "image/jpeg,image/png,image/webp,image/heic,.heic"


class FinalIndexForm(forms.Form):
    dossier = forms.ChoiceField(label=_("Dossier"), error_messages={"required": _("Choisissez le dossier.")})
    index = forms.CharField(
        label=_("Index final"),
        max_length=20,
        help_text=_("Les chiffres affichés par votre compteur (sans les décimales rouges pour l'eau)."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "dir": "ltr"}),
        error_messages={"required": _("Saisissez l'index affiché par votre compteur.")},
    )
    photo = forms.FileField(
        label=_("Photo de l'index"),
        help_text=_("Photo nette du cadran (JPEG, PNG, WebP ou HEIC, 2 Mo au plus)."),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
        error_messages={"required": PHOTO_REQUIRED, "invalid": PHOTO_REQUIRED, "empty": PHOTO_REQUIRED},
    )
    confirm = forms.BooleanField(label=_("Je confirme cet index"), required=False)

    def __init__(self, *args, request: ServiceRequest, ask_confirmation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        pending = termination_pending_dossiers(request)
        cast(forms.ChoiceField, self.fields["dossier"]).choices = [
            (d.number, f"{d.number} — {d.get_service_display()} — {d.meter.number if d.meter else ''}") for d in pending
        ]
        if len(pending) == 1:
            self.fields["dossier"].initial = pending[0].number
        if not ask_confirmation:  # the box appears once an implausible index was refused
            del self.fields["confirm"]


def final_index_form(service_request: ServiceRequest, *args, **kwargs) -> FinalIndexForm | None:
    """The form of the page, when the request waits for the customer's final index."""
    if (
        service_request.request_type.code != RequestType.Code.TERMINATION
        or service_request.status != ServiceRequest.Status.EN_COURS
        or service_request.expected_action != ServiceRequest.Action.READ_METER
    ):
        return None
    return FinalIndexForm(*args, request=service_request, **kwargs)


@customer_required
@require_POST
def final_index(request: CustomerRequest, number: str) -> HttpResponse:
    service_request = customer_request(request.customer.pk, number)
    if service_request is None:
        raise Http404("Demande introuvable")
    asking = "confirm" in request.POST
    form = final_index_form(service_request, request.POST, request.FILES, ask_confirmation=asking)
    if form is None:
        messages.error(request, gettext("Cette demande n'attend pas d'index final."))
        return redirect("portal:request_detail", number=service_request.number)
    if form.is_valid():
        try:
            done = termination_final_reading_submit(
                request_id=service_request.pk,
                customer_id=request.customer.pk,
                user=request.user,
                dossier_number=form.cleaned_data["dossier"],
                index=form.cleaned_data["index"],
                photo=form.cleaned_data["photo"],
                now=clock.now(),
                confirmed=bool(form.cleaned_data.get("confirm")),
            )
        except UploadRefused as exc:
            form.add_error("photo", exc.message)
        except ReadingNeedsConfirmation as exc:
            # the same request in the same state: the form is there again, asking for confirmation
            form = cast(
                FinalIndexForm, final_index_form(service_request, request.POST, request.FILES, ask_confirmation=True)
            )
            form.is_valid()
            form.add_error("index", exc.message)
        except (IndexBelowPrevious, InvalidValue) as exc:
            form.add_error("index", exc.message)
        except (ReadingError, RakError) as exc:
            form.add_error(None, exc.message)
        else:
            if done.status == ServiceRequest.Status.ACCEPTEE:
                messages.success(
                    request,
                    gettext("Votre index final est enregistré : votre demande de résiliation est acceptée."),
                )
            else:
                messages.success(request, gettext("Votre index final est enregistré."))
            return redirect("portal:request_detail", number=service_request.number)
    return _render_detail(request, service_request, extra={"final_index_form": form}, status=400)
