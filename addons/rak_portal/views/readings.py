"""« Relève de mon index de consommation » and « Historique des relevés ».

Every dossier or reading is looked up through the logged-in customer (``request.customer``), so
another customer's number or id is a 404. The page-level refusals of the self-reading (window not
open, index already read) are red messages at the top of the page; a success is green.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from rak_base import clock
from rak_base.errors import RakError
from rak_base.private_files import private_file_response
from rak_base.uploads import UploadRefused
from rak_billing.models import MeterReading
from rak_billing.readings import (
    IndexBelowPrevious,
    InvalidValue,
    ReadingAlreadyDone,
    ReadingNeedsConfirmation,
    ReadingNotCorrectable,
    ReadingNotFound,
    ReadingUnavailable,
    customer_reading_dossiers,
    reading_contest,
    reading_history,
    reading_self_cancel,
    reading_self_correct,
    reading_self_submit,
    self_reading_saved_message,
    self_reading_selected,
    self_reading_states,
)
from rak_billing.readings.rules import fmt_quantity, unit
from rak_customer.models import Dossier
from rak_portal.billing_forms import ContestForm, CorrectionForm, SelfReadingForm
from rak_portal.views.account import CustomerRequest, customer_required


def _render_self_reading(request, *, states, selected=None, form=None, status=200) -> HttpResponse:
    last = None
    if selected is not None:
        last = next(iter(reading_history(selected.dossier.pk, limit=1)), None)
    return render(
        request,
        "rak_portal/readings/self_reading.html",
        {
            "states": states,
            "selected": selected,
            "form": form,
            "last_reading": last,
            "last_index": fmt_quantity(last.index) if last else None,
            "unit": unit(selected.dossier.service) if selected else "",
        },
        status=status,
    )


@customer_required
def self_reading(request: CustomerRequest) -> HttpResponse:
    """The customer's dossiers and whether each can be read today."""
    states = self_reading_states(request.customer.pk, timezone.localdate(clock.now()))
    ready = [s for s in states if s.ready]
    if len(ready) == 1 and not len(messages.get_messages(request)):
        return redirect("portal:self_reading_dossier", number=ready[0].dossier.number)
    if not ready and not len(messages.get_messages(request)):
        if not states:
            messages.error(request, gettext("Aucun de vos dossiers n'a de compteur à relever."))
        elif all(s.already_read for s in states):
            messages.error(request, str(ReadingAlreadyDone.default_message))
        else:
            messages.error(
                request,
                gettext(
                    "La relève de votre index n'est pas encore disponible. Elle n'est ouverte que pendant la période "
                    "de relève de chaque dossier : consultez la date de relève de votre index sur votre facture."
                ),
            )
    return _render_self_reading(request, states=states)


@customer_required
@require_http_methods(["GET", "POST"])
def self_reading_dossier(request: CustomerRequest, number: str) -> HttpResponse:
    dossier = get_object_or_404(
        Dossier.objects.select_related("premises", "meter"), number=number, customer=request.customer
    )
    now = clock.now()
    today = timezone.localdate(now)
    states = self_reading_states(request.customer.pk, today)
    try:
        selected = self_reading_selected(states, dossier=dossier, today=today)
    except ReadingUnavailable as exc:
        messages.error(request, exc.message)
        return _render_self_reading(request, states=states)
    if request.method == "GET":
        return _render_self_reading(request, states=states, selected=selected, form=SelfReadingForm())

    form = SelfReadingForm(request.POST, request.FILES, ask_confirmation="confirm" in request.POST)
    if form.is_valid():
        try:
            reading = reading_self_submit(
                customer_id=request.customer.pk,
                dossier_id=dossier.pk,
                index=form.cleaned_data["index"],
                photo=form.cleaned_data["photo"],
                user=request.user,
                now=now,
                confirmed=bool(form.cleaned_data.get("confirm")),
            )
        except ReadingUnavailable as exc:
            messages.error(request, exc.message)
            return _render_self_reading(request, states=self_reading_states(request.customer.pk, today))
        except UploadRefused as exc:
            form.add_error("photo", exc.message)
        except ReadingNeedsConfirmation as exc:
            form = _asking_confirmation(SelfReadingForm, request, exc)
        except (IndexBelowPrevious, InvalidValue) as exc:
            form.add_error("index", exc.message)
        else:
            messages.success(request, self_reading_saved_message(reading, dossier.number))
            return redirect("portal:self_reading")
    return _render_self_reading(request, states=states, selected=selected, form=form, status=400)


def _asking_confirmation(form_class, request: HttpRequest, exc: ReadingNeedsConfirmation):
    """The same form again with the « Je confirme cet index » box and the reason on the index."""
    form = form_class(request.POST, request.FILES, ask_confirmation=True)
    form.is_valid()
    form.add_error("index", exc.message)
    return form


@customer_required
@require_http_methods(["GET", "POST"])
def correct(request: CustomerRequest, pk: int) -> HttpResponse:
    """« Corriger » / « Annuler ce relevé »: the customer's own self-reading while the window is
    open and before it is reviewed or billed (the services check; anyone else's reading is a 404)."""
    reading = get_object_or_404(
        MeterReading.objects.select_related("dossier__premises", "dossier__meter"),
        pk=pk,
        dossier__customer=request.customer,
    )
    now = clock.now()
    form = CorrectionForm(initial={"index": format(reading.index.normalize(), "f").replace(".", ",")})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "annuler":
                reading_self_cancel(customer_id=request.customer.pk, reading_id=reading.pk, user=request.user, now=now)
                messages.success(
                    request,
                    gettext(
                        "Votre relevé du dossier %(number)s est annulé : vous pouvez relever votre index "
                        "de nouveau pendant la période de relève."
                    )
                    % {"number": reading.dossier.number},
                )
                return redirect("portal:self_reading_dossier", number=reading.dossier.number)
            form = CorrectionForm(request.POST, request.FILES, ask_confirmation="confirm" in request.POST)
            if form.is_valid():
                try:
                    new = reading_self_correct(
                        customer_id=request.customer.pk,
                        reading_id=reading.pk,
                        index=form.cleaned_data["index"],
                        photo=form.cleaned_data.get("photo"),
                        user=request.user,
                        now=now,
                        confirmed=bool(form.cleaned_data.get("confirm")),
                    )
                except UploadRefused as exc:
                    form.add_error("photo", exc.message)
                except ReadingNeedsConfirmation as exc:
                    form = _asking_confirmation(CorrectionForm, request, exc)
                except (IndexBelowPrevious, InvalidValue) as exc:
                    form.add_error("index", exc.message)
                else:
                    messages.success(request, self_reading_saved_message(new, reading.dossier.number, corrected=True))
                    return redirect("portal:self_reading")
            status = 400
        except ReadingNotFound as exc:
            raise Http404 from exc
        except ReadingNotCorrectable as exc:
            messages.error(request, exc.message)
            return redirect(f"{_history_url()}?dossier={reading.dossier.number}")
    return render(
        request,
        "rak_portal/readings/correct.html",
        {
            "reading": reading,
            "form": form,
            "index": fmt_quantity(reading.index),
            "unit": unit(reading.dossier.service),
        },
        status=status,
    )


@customer_required
def history(request: CustomerRequest) -> HttpResponse:
    """« Historique des relevés »: the last 24 readings of one dossier, with a dossier switch."""
    dossiers = customer_reading_dossiers(request.customer.pk)
    wanted = request.GET.get("dossier")
    dossier = next((d for d in dossiers if d.number == wanted), None) if wanted else None
    if wanted and dossier is None:
        raise Http404("Dossier introuvable")  # i18n: not for customers (the 404 page says it)
    if dossier is None and dossiers:
        dossier = next((d for d in dossiers if d.status == Dossier.Status.ACTIVE), dossiers[0])
    readings = reading_history(dossier.pk) if dossier else []
    return render(
        request,
        "rak_portal/readings/history.html",
        {
            "dossiers": dossiers,
            "dossier": dossier,
            "readings": readings,
            "unit": unit(dossier.service) if dossier else "",
        },
    )


def _history_url() -> str:
    return reverse("portal:reading_history")


def _own_reading(request: CustomerRequest, pk: int) -> MeterReading:
    return get_object_or_404(MeterReading.objects.select_related("dossier"), pk=pk, dossier__customer=request.customer)


@customer_required
@require_http_methods(["GET", "POST"])
def contest(request: CustomerRequest, pk: int) -> HttpResponse:
    reading = _own_reading(request, pk)
    if reading.status != MeterReading.Status.HELD:
        messages.error(request, gettext("Ce relevé ne peut plus être contesté."))
        return redirect(f"{_history_url()}?dossier={reading.dossier.number}")
    form = ContestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            reading_contest(
                customer_id=request.customer.pk,
                reading_id=reading.pk,
                note=form.cleaned_data["note"],
                photo=form.cleaned_data["photo"],
                user=request.user,
                now=clock.now(),
            )
        except UploadRefused as exc:
            form.add_error("photo", exc.message)
        except RakError as exc:
            messages.error(request, exc.message)
            return redirect(f"{_history_url()}?dossier={reading.dossier.number}")
        else:
            messages.success(
                request,
                gettext(
                    "Votre contestation a bien été envoyée. Nos services vérifieront votre relevé avant toute "
                    "facturation et vous informeront de leur décision."
                ),
            )
            return redirect(f"{_history_url()}?dossier={reading.dossier.number}")
    return render(
        request,
        "rak_portal/readings/contest.html",
        {"reading": reading, "form": form, "unit": unit(reading.dossier.service)},
        status=400 if request.method == "POST" else 200,
    )


@customer_required
def photo(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """The photo of one of the customer's own readings (never served from the web root)."""
    return private_file_response(_own_reading(request, pk).photo)


@customer_required
def contest_photo(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """The photo the customer joined to a contest."""
    return private_file_response(_own_reading(request, pk).contest_photo)
