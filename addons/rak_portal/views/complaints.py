"""Complaints on the portal (seed 000 « Envoyer une réclamation », « Mes réclamations »; issue 11).

- ``complaint_new``: « Envoyer une réclamation », public (no login) or pre-filled for a logged-in
  customer (their dossiers and recent bills to pick from; « Contester cette facture » on a bill's
  page opens it with ``?facture=<id>``). « Envoyer votre demande » -> ``complaint_filed``: the
  number and the seed's sentence about the SMS « de prise en charge ».
- ``incident_new``: « Signaler une fuite ou une coupure »: an incident category, the customer's
  premises or an address and its district, an optional photo, the browser's position
  (``complaints.js``, optional). A « coupure » where a published outage notice already covers the
  place shows that notice instead of filing a duplicate; « Mon problème est différent, envoyer
  quand même » files it linked to the notice.
- ``my_complaints`` / ``complaint_detail``: « Mes réclamations », open ones first, with the SLA in
  words and the « résultat de traitement » of the closed ones; the detail shows the public thread
  as a conversation, with « Ajouter une information » (open), « Rouvrir la réclamation » (closed,
  within ``COMPLAINT_REOPEN_DAYS``) and « Donner mon avis » (closed, not rated).
- ``complaint_attachment``: a file of the thread, to its owner only (anything else: 404).

Public forms resist spam without a third-party service (``rak_portal.complaint_forms``: honeypot,
signed timestamp, captcha after a few posts from one address) and send an SMS only through
``rak_base.sms_limits.sms_request_allow`` (session, address, hourly budget) and the service's own
per-phone and per-address throttles. Every refusal is a French message on its field; what was typed
comes back, and an accepted file is kept (« Déjà joint ») so it is not asked again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rak_base import clock
from rak_base.errors import RakError
from rak_base.http import client_ip
from rak_base.phones import phone_last_digits
from rak_base.sms_limits import SmsLimitReached, sms_request_allow
from rak_base.throttle import throttle_count, throttle_record
from rak_base.uploads import KINDS, ValidatedUpload
from rak_billing.models import Bill
from rak_customer.models import Dossier, Premises
from rak_customer.selectors import customer_email, customer_sms_phone
from rak_portal.complaint_forms import (
    AddInfoForm,
    ComplaintForm,
    IncidentForm,
    RateForm,
    ReopenForm,
)
from rak_portal.views.account import CustomerRequest, customer_required
from rak_portal.views.customers import request_acting_customer
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints.categories import category_name
from rak_requests.complaints.errors import ComplaintThrottled
from rak_requests.complaints.selectors import (
    OUTAGE_CATEGORY_PREFIX,
    complaint_attachment_for_customer,
    complaint_can_rate,
    complaint_can_reopen,
    complaint_for_customer,
    complaint_is_overdue,
    complaint_public_entries,
    complaint_reopen_until,
    complaint_sla_text,
    customer_complaints,
    customer_premises,
    district_canonical,
    incident_outage_notice,
)
from rak_requests.complaints.services import (
    ComplaintFiling,
    complaint_customer_add,
    complaint_file,
    complaint_rate,
    complaint_reopen,
)
from rak_requests.filing import FilingError, staging_discard, staging_read, staging_store, staging_token_new

FILED_SESSION_KEY = "rak_complaint_filed"
STAGE_NEW = "rak_complaint_upload"
STAGE_INCIDENT = "rak_incident_upload"
# the « code de vérification » appears after this many posts of the public forms from one address
CAPTCHA_AFTER = 3
CAPTCHA_WINDOW = timedelta(hours=1)
RECENT_BILLS = 24
LIST_PAGE_SIZE = 20


# --- helpers ---------------------------------------------------------------------------------------


def _base_template(customer) -> str:
    return "rak_portal/private_base.html" if customer is not None else "rak_portal/base.html"


def _captcha_key(request: HttpRequest) -> str:
    return f"complaint:form:ip:{client_ip(request)}"


def _captcha_needed(request: HttpRequest, now) -> bool:
    return throttle_count(key=_captcha_key(request), window=CAPTCHA_WINDOW, now=now) >= CAPTCHA_AFTER


def _staged(request: HttpRequest, key: str) -> dict | None:
    info = request.session.get(key)
    return info if isinstance(info, dict) and info.get("token") and info.get("stored") else None


def _stage_discard(request: HttpRequest, key: str) -> None:
    info = request.session.pop(key, None)
    if isinstance(info, dict):
        staging_discard(token=str(info.get("token") or ""))


def _keep_upload(request: HttpRequest, key: str, form, field: str) -> dict | None:
    """The file of this post, once accepted, is kept in the private staging area so that a refusal
    of another field does not ask for it again; « Retirer le fichier » forgets it."""
    if request.POST.get(f"{field}_clear"):
        _stage_discard(request, key)
    upload = form.cleaned_data.get(field) if hasattr(form, "cleaned_data") else None
    if isinstance(upload, ValidatedUpload):
        _stage_discard(request, key)
        token = staging_token_new()
        original = _file_name(request, field)
        info = staging_store(token=token, document_code="complaint", upload=upload, original_name=original)
        info.update({"token": token, "kind": upload.kind})
        request.session[key] = info
        return info
    return _staged(request, key)


def _file_name(request: HttpRequest, field: str) -> str:
    """The name the customer's file had (shown in the thread, never used to store it)."""
    file = request.FILES.get(field)
    name = PurePosixPath(((file.name or "") if file else "").replace("\\", "/")).name
    return "".join(ch for ch in name if ch.isprintable())[-200:]


def _upload_of(request: HttpRequest, key: str, form, field: str) -> tuple[ValidatedUpload | None, str]:
    """The file to file with the complaint: the one just posted, else the one kept."""
    upload = form.cleaned_data.get(field)
    if isinstance(upload, ValidatedUpload):
        return upload, _file_name(request, field)
    info = _staged(request, key)
    if info is None:
        return None, ""
    content = staging_read(token=info["token"], stored=info["stored"])
    extension = PurePosixPath(info["stored"]).suffix.lstrip(".")
    kind = info.get("kind") or next((k.name for k in KINDS.values() if k.extension == extension), "")
    validated = ValidatedUpload(
        file=ContentFile(content),
        kind=kind,
        mime=info["mime"],
        extension=extension,
        size=info["size"],
        sha256=info["sha256"],
    )
    return validated, info.get("original", "")


def _refusal_field(form, message: str, field: str | None = None) -> str | None:
    """The field a service refusal is about (``field``, said by the service, else the French
    message names it), when the form has it."""
    if field:
        return (
            field if field in form.fields else ("address" if field == "premises" and "address" in form.fields else None)
        )
    text = message.lower()
    for word, field in (
        ("catégorie", "category"),
        ("téléphone", "phone"),
        ("dossier", "dossier"),
        ("facture", "bill"),
        ("relevé", "bill"),
        ("local", "premises"),
        ("adresse", "address"),
    ):
        if word in text and field in form.fields:
            return field
    return None


def _fresh_token(form) -> None:
    """A page sent back carries a new signed timestamp (the first display's when still valid)."""
    if "started" in form.fields and form.is_bound:
        form.data = form.data.copy()
        form.data["started"] = form.fresh_token()


def _file_with_limits(request: HttpRequest, *, filing: ComplaintFiling, customer, now) -> Complaint:
    """Filing sends the SMS « de prise en charge »: the portal's SMS limits first (session, address,
    hourly budget for visitors), then the service's per-phone and per-address throttles."""
    sms_request_allow(request, now=now)
    return complaint_file(
        filing=filing,
        now=now,
        customer=customer,
        user=request.user if customer is not None else None,
        ip=client_ip(request),
        deduplicate=True,  # a double click on « Envoyer votre demande »: one complaint, one SMS
        language=getattr(request, "LANGUAGE_CODE", None),  # the SMS to a visitor who is not a customer
    )


def _refuse(form, exc: RakError) -> None:
    if isinstance(exc, SmsLimitReached | ComplaintThrottled):
        form.add_error(None, exc.message)
    elif isinstance(exc, FilingError):  # the kept file expired
        form.add_error("file" if "file" in form.fields else "photo", exc.message)
    else:
        field = exc.params.get("field")
        form.add_error(_refusal_field(form, exc.message, field if isinstance(field, str) else None), exc.message)


def _filed(request: HttpRequest, complaint: Complaint) -> HttpResponse:
    request.session[FILED_SESSION_KEY] = {
        "number": complaint.number,
        "phone_end": phone_last_digits(complaint.phone) if complaint.phone else "",
        "urgent": complaint.category.is_urgent,
        "mine": complaint.customer_id is not None and complaint.user_id == getattr(request.user, "pk", None),
    }
    return redirect("portal:complaint_filed")


def _id_like(value) -> bool:
    # a bigint (19 digits at most): bill ids carry their month since issue 15 (yyyymm×10^10+n)
    return isinstance(value, str) and value.isdigit() and len(value) < 19


# --- « Envoyer une réclamation » --------------------------------------------------------------------


def _customer_choices(customer):
    dossiers = Dossier.objects.filter(customer=customer).select_related("premises").order_by("number")
    bill_queryset = Bill.objects.filter(customer=customer)
    return dossiers, bill_queryset


def _complaint_form(request: HttpRequest, customer, *, data=None, files=None, initial=None, now, contested=None):
    kwargs = {"customer": customer}
    if customer is not None:
        dossiers, bill_queryset = _customer_choices(customer)
        bills = list(
            bill_queryset.only("pk", "number", "issue_date", "total_ttc").order_by("-issue_date", "-pk")[:RECENT_BILLS]
        )
        if contested is not None and all(b.pk != contested.pk for b in bills):
            bills.insert(0, contested)
        elif data is not None and _id_like(data.get("bill")) and all(str(b.pk) != data["bill"] for b in bills):
            extra = bill_queryset.filter(pk=int(data["bill"])).first()
            if extra is not None:
                bills.insert(0, extra)
        kwargs.update(dossiers=dossiers, bills=bills, bill_queryset=bill_queryset)
    else:
        kwargs.update(captcha=_captcha_needed(request, now), question=True)
    return ComplaintForm(data, files, initial=initial, **kwargs)


def _render_new(request: HttpRequest, form, customer, *, status: int = 200, contested=None) -> HttpResponse:
    context = {
        "form": form,
        "customer": customer,
        "base_template": _base_template(customer),
        "staged": _staged(request, STAGE_NEW) if form.is_bound else None,
        "contested": contested,
    }
    return render(request, "rak_portal/complaints/new.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    customer = request_acting_customer(request)  # the code client chosen in the header (issue 13)
    now = clock.now()
    if request.method == "GET":
        _stage_discard(request, STAGE_NEW)
        initial, contested = {}, None
        if customer is not None:
            initial = {
                "name": customer.display_name,
                "phone": customer_sms_phone(customer) or "",
                "email": customer_email(customer) or getattr(request.user, "email", "") or "",
            }
            bill_id = request.GET.get("facture", "")
            if bill_id.isdigit() and len(bill_id) < 19:
                contested = Bill.objects.filter(customer=customer, pk=int(bill_id)).first()
            if contested is not None:
                category = (
                    ComplaintCategory.objects.filter(is_active=True, about_bill=True).order_by("position").first()
                )
                initial.update(
                    bill=contested.pk,
                    dossier=contested.dossier_id,
                    category=category.pk if category else None,
                    subject=_("Contestation de la facture n° %(number)s") % {"number": contested.number},
                )
        form = _complaint_form(request, customer, initial=initial, now=now, contested=contested)
        return _render_new(request, form, customer, contested=contested)

    form = _complaint_form(request, customer, data=request.POST, files=request.FILES, now=now)
    if customer is None:
        throttle_record(key=_captcha_key(request), now=now)
    valid = form.is_valid()
    _keep_upload(request, STAGE_NEW, form, "file")
    if valid:
        data = form.cleaned_data
        try:
            upload, upload_name = _upload_of(request, STAGE_NEW, form, "file")
            category = data["category"]
            bill = data.get("bill")
            filing = ComplaintFiling(
                category=category,
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                subject=data["subject"],
                message=data["message"],
                customer_code=data.get("customer_code", ""),
                reference=data.get("reference", ""),
                dossier_id=data["dossier"].pk if data.get("dossier") else None,
                bill_id=bill.pk if bill else None,
                source=Complaint.Source.BILL if bill is not None and category.about_bill else Complaint.Source.FORM,
                upload=upload,
                upload_name=upload_name,
            )
            complaint = _file_with_limits(request, filing=filing, customer=customer, now=now)
        except RakError as exc:
            _refuse(form, exc)
        else:
            _stage_discard(request, STAGE_NEW)
            return _filed(request, complaint)
    _fresh_token(form)
    return _render_new(request, form, customer, status=400)


@never_cache
@require_GET
def complaint_filed(request: HttpRequest) -> HttpResponse:
    """The result page: the number and the SMS « de prise en charge » (read once from the session:
    nobody can list numbers through this URL)."""
    filed = request.session.get(FILED_SESSION_KEY)
    if not isinstance(filed, dict) or not filed.get("number"):
        return redirect("portal:complaint_new")
    customer = request_acting_customer(request)  # the code client chosen in the header (issue 13)
    context = {"filed": filed, "customer": customer, "base_template": _base_template(customer)}
    return render(request, "rak_portal/complaints/filed.html", context)


# --- « Signaler une fuite ou une coupure » ----------------------------------------------------------


def outage_notice_url(notice) -> str:
    for name, args in (("portal:outage_notice", [notice.number]), ("portal:outage_detail", [notice.number])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    for name in ("portal:outage_notices", "portal:outages"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


def _districts() -> list[str]:
    """The districts of the premises (the « Quartier » suggestions), cached ten minutes."""
    from django.core.cache import cache

    return cache.get_or_set("rak_portal:complaint_districts", _districts_read, 600) or []


def _districts_read() -> list[str]:
    return list(
        Premises.objects.exclude(district="").order_by("district").values_list("district", flat=True).distinct()
    )


def _render_incident(request, form, customer, *, status=200, notice=None) -> HttpResponse:
    context = {
        "form": form,
        "customer": customer,
        "base_template": _base_template(customer),
        "staged": _staged(request, STAGE_INCIDENT) if form.is_bound else None,
        "districts": _districts(),
        "notice": notice,
        "notice_url": outage_notice_url(notice) if notice is not None else "",
    }
    response = render(request, "rak_portal/complaints/incident.html", context, status=status)
    # « Utiliser ma position »: this page (only) may ask the browser for its position
    response["Permissions-Policy"] = settings.PERMISSIONS_POLICY.replace("geolocation=()", "geolocation=(self)")
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    customer = request_acting_customer(request)  # the code client chosen in the header (issue 13)
    now = clock.now()
    kwargs = {"customer": customer}
    if customer is not None:
        kwargs["premises"] = customer_premises(customer)
    else:
        kwargs.update(captcha=_captcha_needed(request, now), question=True)
    if request.method == "GET":
        _stage_discard(request, STAGE_INCIDENT)
        initial = {}
        if customer is not None:
            initial = {
                "name": customer.display_name,
                "phone": customer_sms_phone(customer) or "",
                "email": customer_email(customer) or getattr(request.user, "email", "") or "",
            }
            first = kwargs["premises"].first()
            if first is not None:
                initial["premises"] = first.pk
        return _render_incident(request, IncidentForm(initial=initial, **kwargs), customer)

    form = IncidentForm(request.POST, request.FILES, **kwargs)
    if customer is None:
        throttle_record(key=_captcha_key(request), now=now)
    valid = form.is_valid()
    _keep_upload(request, STAGE_INCIDENT, form, "photo")
    if valid:
        data = form.cleaned_data
        data["district"] = district_canonical(data.get("district", ""))
        category, service = data["category"], form.service_code()
        premises = data.get("premises")
        notice_id = data.get("outage_notice")
        if not notice_id:
            notice = incident_outage_notice(
                category=category, service=service, premises=premises, district=data["district"], now=now
            )
            if notice is not None:
                form.data = form.data.copy()  # type: ignore[attr-defined]  # a bound form's data: the POST QueryDict
                form.data["outage_notice"] = str(notice.pk)  # type: ignore[index]  # (a mutable copy)
                _fresh_token(form)
                return _render_incident(request, form, customer, notice=notice)
        service_choices = form.fields["service"].choices  # type: ignore[attr-defined]  # a ChoiceField
        service_label = dict(service_choices).get(service, "") if service else ""
        try:
            upload, upload_name = _upload_of(request, STAGE_INCIDENT, form, "photo")
            filing = ComplaintFiling(
                category=category,
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                subject=f"{category_name(category)} — {service_label}" if service_label else category_name(category),
                message=data["message"],
                premises_id=premises.pk if premises is not None else None,
                address=data["address"] if premises is None else "",
                district=data["district"] if premises is None else "",
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                outage_notice_id=notice_id or None,
                source=Complaint.Source.INCIDENT,
                upload=upload,
                upload_name=upload_name,
            )
            complaint = _file_with_limits(request, filing=filing, customer=customer, now=now)
        except RakError as exc:
            _refuse(form, exc)
        else:
            _stage_discard(request, STAGE_INCIDENT)
            return _filed(request, complaint)
    _fresh_token(form)
    return _render_incident(request, form, customer, status=400)


# --- « Mes réclamations » ---------------------------------------------------------------------------


def sla_wording(complaint: Complaint, now) -> str:
    """The deadline in the customer's words (``complaint_sla_text``, shared with the API)."""
    return complaint_sla_text(complaint, now)


@customer_required
@require_GET
def my_complaints(request: CustomerRequest) -> HttpResponse:
    now = clock.now()
    page = Paginator(customer_complaints(request.customer), LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"c": c, "sla": sla_wording(c, now), "overdue": complaint_is_overdue(c, now)} for c in page.object_list]
    return render(request, "rak_portal/complaints/list.html", {"page": page, "rows": rows})


def _own(request: CustomerRequest, number: str) -> Complaint:
    try:
        return complaint_for_customer(request.customer, number)
    except Complaint.DoesNotExist as exc:
        raise Http404(_("Réclamation introuvable")) from exc


def _can_reopen(complaint: Complaint, now) -> bool:
    return complaint_can_reopen(complaint, now)


def _render_detail(request, complaint, *, add_form=None, reopen_form=None, rate_form=None, status=200):
    now = clock.now()
    entries = list(complaint_public_entries(complaint))
    reopen_until = complaint_reopen_until(complaint)
    context = {
        "c": complaint,
        "entries": entries,
        "sla": sla_wording(complaint, now),
        "overdue": complaint_is_overdue(complaint, now),
        "add_form": add_form or AddInfoForm(),
        "reopen_form": reopen_form or ReopenForm(),
        "rate_form": rate_form or RateForm(),
        "can_reopen": _can_reopen(complaint, now),
        "reopen_until": reopen_until,
        "can_rate": complaint_can_rate(complaint),
        "reopen_days": settings.COMPLAINT_REOPEN_DAYS,
        "stars": range(1, 6),
    }
    return render(request, "rak_portal/complaints/detail.html", context, status=status)


@customer_required
@require_GET
def complaint_detail(request: CustomerRequest, number: str) -> HttpResponse:
    return _render_detail(request, _own(request, number))


@customer_required
@require_POST
def complaint_add(request: CustomerRequest, number: str) -> HttpResponse:
    complaint = _own(request, number)
    form = AddInfoForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data.get("file")
        try:
            complaint_customer_add(
                complaint_id=complaint.pk,
                customer=request.customer,
                user=request.user,
                body=form.cleaned_data["body"],
                upload=upload,
                upload_name=_file_name(request, "file") if upload is not None else "",
                now=clock.now(),
            )
        except Complaint.DoesNotExist as exc:
            raise Http404(_("Réclamation introuvable")) from exc
        except RakError as exc:
            if complaint.is_open:
                form.add_error("body", exc.message)
            else:  # closed meanwhile: the page offers « Rouvrir la réclamation » instead
                messages.error(request, exc.message)
                return redirect("portal:complaint_detail", complaint.number)
        else:
            messages.success(request, _("Votre information a bien été ajoutée à la réclamation. Merci."))
            return redirect(reverse("portal:complaint_detail", args=[complaint.number]) + "#echanges")
    return _render_detail(request, complaint, add_form=form, status=400)


@customer_required
@require_POST
def complaint_reopen_view(request: CustomerRequest, number: str) -> HttpResponse:
    complaint = _own(request, number)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            complaint_reopen(
                complaint_id=complaint.pk,
                customer=request.customer,
                user=request.user,
                reason=form.cleaned_data["reason"],
                now=clock.now(),
            )
        except Complaint.DoesNotExist as exc:
            raise Http404(_("Réclamation introuvable")) from exc
        except RakError as exc:
            complaint = _own(request, number)
            if not _can_reopen(complaint, clock.now()):  # the section is not shown: say it above
                messages.error(request, exc.message)
                return redirect("portal:complaint_detail", complaint.number)
            form.add_error("reason", exc.message)
        else:
            messages.success(request, _("Votre réclamation est rouverte : un conseiller va reprendre son traitement."))
            return redirect("portal:complaint_detail", complaint.number)
    return _render_detail(request, complaint, reopen_form=form, status=400)


@customer_required
@require_POST
def complaint_rate_view(request: CustomerRequest, number: str) -> HttpResponse:
    complaint = _own(request, number)
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            complaint_rate(
                complaint_id=complaint.pk,
                customer=request.customer,
                user=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                now=clock.now(),
            )
        except Complaint.DoesNotExist as exc:
            raise Http404(_("Réclamation introuvable")) from exc
        except RakError as exc:
            complaint = _own(request, number)
            if complaint.is_open or complaint.rating is not None:  # the section is not shown: say it above
                messages.error(request, exc.message)
                return redirect("portal:complaint_detail", complaint.number)
            form.add_error("rating", exc.message)
        else:
            messages.success(request, _("Merci pour votre avis : il nous aide à améliorer notre service."))
            return redirect("portal:complaint_detail", complaint.number)
    return _render_detail(request, complaint, rate_form=form, status=400)


@customer_required
@require_GET
def complaint_attachment(request: CustomerRequest, pk: int) -> HttpResponseBase:
    """A file of one of the customer's own complaints (private storage; anything else: 404)."""
    from rak_base.private_files import private_file_response

    entry = complaint_attachment_for_customer(request.customer, pk)
    if entry is None:
        raise Http404(_("Pièce introuvable"))
    return private_file_response(entry.file, download_name=entry.file_name or None)


__all__ = [
    "OUTAGE_CATEGORY_PREFIX",
    "complaint_add",
    "complaint_attachment",
    "complaint_detail",
    "complaint_filed",
    "complaint_new",
    "complaint_rate_view",
    "complaint_reopen_view",
    "incident_new",
    "my_complaints",
]
