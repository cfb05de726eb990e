"""« Suivi des demandes »: the customer's requests, the detail page behind the magnifier (phase bar,
state and expected action, summary, history), « Répondre » to a complement request and
« Annuler la demande ».

Every request and attachment is looked up through the logged-in customer (``request.customer``):
another customer's number or attachment id is a 404. A view parses, calls one service, renders."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from rak_base import clock
from rak_base.errors import RakError
from rak_base.private_files import private_file_response
from rak_portal.views.account import CustomerRequest, customer_required
from rak_requests.filing import request_summary
from rak_requests.models import ServiceRequest
from rak_requests.quotes import works_bill_payable
from rak_requests.selectors import (
    customer_attachment,
    customer_request,
    request_detail,
)
from rak_requests.services import request_answer_complement, request_can_cancel, request_cancel
from rak_requests.tracking import customer_tracking_rows
from rak_requests.uploads import document_help_text, document_upload_hints


class ComplementAnswerForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Votre réponse"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    file = forms.FileField(label=gettext_lazy("Fichier"), required=False, widget=forms.ClearableFileInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # what the complement's check accepts (rak_requests.uploads: a free attachment)
        self.fields["file"].help_text = document_help_text()
        self.fields["file"].widget.attrs["accept"] = document_upload_hints()["accept"]

    def clean(self):
        data = super().clean()
        if data is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            data = self.cleaned_data
        if not (data.get("text") or "").strip() and not data.get("file"):
            raise forms.ValidationError(_("Saisissez une réponse ou joignez un fichier."))
        return data


def _own_request(request: CustomerRequest, number: str) -> ServiceRequest:
    service_request = customer_request(request.customer.pk, number)
    if service_request is None:
        raise Http404("Demande introuvable")
    return service_request


@customer_required
@require_GET
def request_list(request: CustomerRequest) -> HttpResponse:
    """The customer's requests and, as « Relevé index » rows, their own meter readings."""
    rows = customer_tracking_rows(request.customer.pk)
    return render(request, "rak_portal/requests/list.html", {"rows": rows})


def _render_detail(
    request: CustomerRequest, service_request: ServiceRequest, *, form=None, status=200, extra: dict | None = None
) -> HttpResponse:
    """The request's page; ``extra``: what a type's own block needs back after a refused post
    (the final index form of a termination, with its errors)."""
    context = request_detail(service_request)
    context.update(
        {
            "r": service_request,
            "customer": request.customer,
            "form": form or ComplementAnswerForm(),
            "can_cancel": request_can_cancel(service_request),
            "data_rows": request_summary(service_request),
            "works_payable": works_bill_payable(service_request),
        }
    )
    context.update(extra or {})
    return render(request, "rak_portal/requests/detail.html", context, status=status)


@customer_required
@require_GET
def request_detail_view(request: CustomerRequest, number: str) -> HttpResponse:
    return _render_detail(request, _own_request(request, number))


@customer_required
@require_http_methods(["POST"])
def request_answer(request: CustomerRequest, number: str) -> HttpResponse:
    service_request = _own_request(request, number)
    form = ComplementAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            request_answer_complement(
                request_id=service_request.pk,
                user=request.user,
                text=form.cleaned_data["text"],
                file=form.cleaned_data["file"],
                now=clock.now(),
            )
        except RakError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Votre réponse a été envoyée : votre demande est de nouveau en cours."))
            return redirect("portal:request_detail", number=service_request.number)
    return _render_detail(request, service_request, form=form, status=400)


@customer_required
@require_http_methods(["GET", "POST"])
def request_cancel_view(request: CustomerRequest, number: str) -> HttpResponse:
    """« Annuler la demande »: a confirmation page, then the cancellation."""
    service_request = _own_request(request, number)
    if request.method == "POST":
        try:
            request_cancel(request_id=service_request.pk, user=request.user, now=clock.now())
        except RakError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Votre demande %(number)s a été annulée.") % {"number": service_request.number})
        return redirect("portal:request_detail", number=service_request.number)
    if not request_can_cancel(service_request):
        messages.error(request, _("Cette demande ne peut plus être annulée : son traitement a déjà été décidé."))
        return redirect("portal:request_detail", number=service_request.number)
    return render(request, "rak_portal/requests/cancel.html", {"r": service_request})


@customer_required
@require_GET
def request_attachment(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """One of the customer's own attachments (private storage, access-checked)."""
    attachment = customer_attachment(request.customer.pk, pk)
    if attachment is None:
        raise Http404("Pièce introuvable")
    return private_file_response(attachment.file, download_name=attachment.original_name or None)
