"""Counter filing (« Déposer une demande ») in the back office, and the customer 360's requests.

From the customer's page (customer 360, rak_customer admin) an agent of the front desk (accueil:
permission ``rak_requests.add_servicerequest``) chooses a type, then fills in the same form and
documents as the customer would on the portal (``rak_requests.flow.KindSubmission``: same checks,
same ``filing_check``), ticks « Pièce d'identité vérifiée au guichet » (required, instead of the
portal's OTP) and files: one call to ``kind_request_file`` with channel AGENCY and the agent as
actor. Files accepted on a post sent back with an error stay staged (session), as on the portal.

The customer 360 lists every request of the customer (n°, type, date, statut, phase, link to the
request's back-office page) in one query, through the page's panel hook
(``rak_customer.admin.HOOK_CUSTOMER_360_PANELS``): rak_customer does not know rak_requests.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_base import clock
from rak_base.errors import RakError
from rak_base.hooks import hook_subscribe
from rak_customer.admin import HOOK_CUSTOMER_360_PANELS
from rak_customer.api import customer_email, customer_sms_phone
from rak_customer.models import Customer
from rak_requests.flow import (
    KindSubmission,
    KindUnavailable,
    kind_has_customer_form,
    kind_request_file,
    kind_request_type,
)
from rak_requests.kinds import kind_by_slug, kinds_all
from rak_requests.models import RequestType, ServiceRequest

COUNTER_PERMISSION = "rak_requests.add_servicerequest"
CONTACT_MISSING = _(
    "Le client n'a pas de N° de téléphone ou d'adresse mail : renseignez-les sur sa fiche (contacts) avant de "
    "déposer la demande."
)
LINK_CLASSES = "text-primary-600 dark:text-primary-500 font-medium"


class IdentityCheckForm(forms.Form):
    identity_checked = forms.BooleanField(
        label=_("Pièce d'identité vérifiée au guichet"),
        error_messages={"required": _("Vérifiez la pièce d'identité du client puis cochez cette case.")},
    )


def counter_kinds() -> list:
    """The types an agent may file at the counter: every kind with a form of the generic flow whose
    type is active, in the types' order."""
    kinds = {kind.code: kind for kind in kinds_all() if kind.slug and kind_has_customer_form(kind, counter=True)}
    types = RequestType.objects.filter(code__in=kinds, is_active=True).order_by("position", "name")
    return [(kinds[t.code], t) for t in types]


def _require_counter(request) -> None:
    if not request.user.has_perm(COUNTER_PERMISSION):
        raise PermissionDenied


def counter_choose_view(request, customer_id: int, *, admin_site):
    """« Déposer une demande » for a customer: choose the type."""
    _require_counter(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    choices = [
        {
            "title": kind.title or request_type.name,
            "url": reverse("admin:rak_requests_counter_file", args=[customer.pk, kind.slug]),
        }
        for kind, request_type in counter_kinds()
    ]
    context = {
        **admin_site.each_context(request),
        "title": gettext("Déposer une demande pour %(customer)s") % {"customer": customer.display_name},
        "customer": customer,
        "customer_url": reverse("admin:rak_customer_customer_change", args=[customer.pk]),
        "choices": choices,
        "opts": ServiceRequest._meta,
    }
    return TemplateResponse(request, "admin/rak_requests/counter_choose.html", context)


def _staging_key(customer_id: int, slug: str) -> str:
    return f"rak_counter_{customer_id}_{slug}"


def counter_file_view(request, customer_id: int, slug: str, *, admin_site):
    """The kind's form and documents for this customer, the identity box, then filing (AGENCY)."""
    _require_counter(request)
    customer = get_object_or_404(Customer, pk=customer_id)
    kind = kind_by_slug(slug)
    if kind is None or not kind_has_customer_form(kind, counter=True):
        raise Http404
    try:
        request_type = kind_request_type(kind)
    except KindUnavailable as exc:
        raise Http404 from exc
    key = _staging_key(customer.pk, slug)
    staging = request.session.get(key) or {}
    posted = request.method == "POST"
    submission = KindSubmission(
        kind=kind,
        request_type=request_type,
        customer=customer,
        staging=staging,
        data=request.POST if posted else None,
        files=request.FILES if posted else None,
    )
    identity_form = IdentityCheckForm(request.POST if posted else None)
    status = 200
    if posted:
        now = clock.now()
        valid = submission.is_valid(now=now)
        identity_ok = identity_form.is_valid()
        request.session[key] = staging
        if valid and kind.requires_contact and not (customer_sms_phone(customer) and customer_email(customer)):
            submission.form.add_error(None, str(CONTACT_MISSING))
            valid = False
        if valid and identity_ok:
            try:
                filed = kind_request_file(
                    kind=kind,
                    customer=customer,
                    data=submission.valid_data,
                    staged=staging.get("files", {}),
                    staging_token=staging.get("token", ""),
                    now=now,
                    actor=request.user,
                    channel=ServiceRequest.Channel.AGENCY,
                    identity_checked=True,
                )
            except RakError as exc:
                submission.form.add_error(None, exc.message)
            else:
                request.session.pop(key, None)
                messages.success(
                    request,
                    gettext("Demande %(number)s déposée au guichet pour %(customer)s.")
                    % {"number": filed.number, "customer": customer.display_name},
                )
                return HttpResponseRedirect(reverse("admin:rak_requests_servicerequest_change", args=[filed.pk]))
        status = 400
    context = {
        **admin_site.each_context(request),
        "title": f"{kind.title or request_type.name} — {customer.display_name} ({customer.code})",
        "customer": customer,
        "customer_url": reverse("admin:rak_customer_customer_change", args=[customer.pk]),
        "choose_url": reverse("admin:rak_requests_counter_choose", args=[customer.pk]),
        "submission": submission,
        "form": submission.form,
        "identity_form": identity_form,
        "opts": ServiceRequest._meta,
    }
    return TemplateResponse(request, "admin/rak_requests/counter_file.html", context, status=status)


def counter_urls(admin_site) -> list:
    """The counter's URLs, added to the requests' admin (``ServiceRequestAdmin.get_urls``)."""
    return [
        path(
            "guichet/<int:customer_id>/",
            admin_site.admin_view(
                lambda request, customer_id: counter_choose_view(request, customer_id, admin_site=admin_site)
            ),
            name="rak_requests_counter_choose",
        ),
        path(
            "guichet/<int:customer_id>/<slug:slug>/",
            admin_site.admin_view(
                lambda request, customer_id, slug: counter_file_view(request, customer_id, slug, admin_site=admin_site)
            ),
            name="rak_requests_counter_file",
        ),
    ]


# --- the customer 360's requests ---------------------------------------------------------------------


def customer_requests_panel(*, request, customer_id: int) -> dict | None:
    """The « Demandes du client » card of the customer 360: every request, newest first (one
    query), and « Déposer une demande » for the front desk."""
    user = request.user
    if not user.has_perm("rak_requests.view_servicerequest"):
        return None
    rows = (
        ServiceRequest.objects.filter(customer_id=customer_id)
        .select_related("request_type", "phase")
        .order_by("-filed_at", "-id")
    )
    table = {
        "headers": [_("n° de la demande"), _("type"), _("date de la demande"), _("statut"), _("phase")],
        "rows": [
            [
                format_html(
                    '<a href="{}" class="{}" data-testid="customer-request">{}</a>',
                    reverse("admin:rak_requests_servicerequest_change", args=[r.pk]),
                    LINK_CLASSES,
                    r.number,
                ),
                r.request_type.name,
                date_format(localtime(r.filed_at), "SHORT_DATETIME_FORMAT"),
                r.get_status_display(),
                r.phase.name if r.phase is not None else "—",
            ]
            for r in rows
        ],
    }
    actions = []
    if user.has_perm(COUNTER_PERMISSION):
        actions.append(
            {"label": _("Déposer une demande"), "url": reverse("admin:rak_requests_counter_choose", args=[customer_id])}
        )
    return {
        "id": "customer-requests",
        "title": _("Demandes du client"),
        "table": table,
        "empty": _("Aucune demande."),
        "actions": actions,
    }


def hooks_register() -> None:
    """Called by ``RakRequestsConfig.ready``: the customer 360 shows the customer's requests."""
    hook_subscribe(HOOK_CUSTOMER_360_PANELS, customer_requests_panel)
