"""The back-office buttons a request type adds on the request's page (``RequestKind.staff_actions``:
« Enregistrer la relève finale », « Enregistrer le remboursement »...), rendered the same way for
every type: one small form per action (its ``form_class``, or a button alone) above the request's
fields, posted to ``/backoffice/rak_requests/servicerequest/<id>/actions/<name>/``.

The post: the action must still be offered (request open when ``open_only``, phase among
``phases``, same phase and status as the page showed — else the page is stale and says where the
request is now), the agent needs the action's permission (default: the one deciding the phase,
technical or administrative), the form is validated (errors shown next to the fields, the input
kept), then ``action.run(request_id=, staff=, now=, data=cleaned_data)`` — one service call — and
its message is shown; a ``RakError`` is shown as an error. Never a 500 for a refusal."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from unfold.widgets import CHECKBOX_CLASSES, INPUT_CLASSES, SELECT_CLASSES, TEXTAREA_CLASSES

from rak_base import clock
from rak_base.errors import RakError
from rak_requests.engine import OPEN_STATUSES, request_kind, stale_state
from rak_requests.kinds.base import StaffAction
from rak_requests.models import ServiceRequest
from rak_requests.services import phase_decide_permission

CHANGE_PERMISSION = "rak_requests.change_servicerequest"


@dataclass
class StaffActionItem:
    action: StaffAction
    form: object | None
    url: str


def action_offered(action: StaffAction, request: ServiceRequest) -> bool:
    if action.open_only and request.status not in OPEN_STATUSES:
        return False
    if action.phases and not (request.phase is not None and request.phase.code in action.phases):
        return False
    return True


def action_permission(action: StaffAction, request: ServiceRequest) -> str:
    return action.permission or phase_decide_permission(request)


def staff_actions_for(request: ServiceRequest, user) -> list[StaffAction]:
    """The type's actions offered on this request now, that this agent may run."""
    return [
        action
        for action in request_kind(request).staff_actions(request)
        if action_offered(action, request) and user.has_perm(action_permission(action, request))
    ]


def _prefix(action: StaffAction) -> str:
    return f"sa_{action.name}"


def _styled(form):
    """The back office's look for a plain form's inputs (unfold's classes)."""
    for field in form.fields.values():
        widget = field.widget
        if widget.attrs.get("class") or isinstance(widget, forms.FileInput | forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.CheckboxInput):
            classes = CHECKBOX_CLASSES
        elif isinstance(widget, forms.Select):
            classes = SELECT_CLASSES
        elif isinstance(widget, forms.Textarea):
            classes = TEXTAREA_CLASSES
        else:
            classes = INPUT_CLASSES
        widget.attrs["class"] = " ".join(classes)
    return form


def staff_actions_context(request: ServiceRequest, user, bound: dict | None = None) -> list[StaffActionItem]:
    """What the request's page renders: each action with its (unbound, or bound with errors) form."""
    items = []
    for action in staff_actions_for(request, user):
        form = (bound or {}).get(action.name)
        if form is None and action.form_class is not None:
            form = action.form_class(prefix=_prefix(action))
        items.append(
            StaffActionItem(
                action=action,
                form=_styled(form) if form is not None else None,
                url=reverse("admin:rak_requests_servicerequest_staff_action", args=[request.pk, action.name]),
            )
        )
    return items


def staff_action_urls(model_admin) -> list:
    def view(http_request, request_id: int, name: str):
        return staff_action_view(model_admin, http_request, request_id, name)

    return [
        path(
            "<int:request_id>/actions/<slug:name>/",
            model_admin.admin_site.admin_view(require_POST(view)),
            name="rak_requests_servicerequest_staff_action",
        )
    ]


def _form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        parts.append(f"{label} : {' '.join(errors)}" if label else " ".join(errors))
    return " ; ".join(parts)


def staff_action_view(model_admin, http_request, request_id: int, name: str):
    """Run one of the type's actions on a request (POST from its page)."""
    if not model_admin.has_view_permission(http_request):
        raise PermissionDenied
    obj = get_object_or_404(ServiceRequest.objects.select_related("request_type", "phase", "customer"), pk=request_id)
    page = reverse("admin:rak_requests_servicerequest_change", args=[obj.pk])
    action = next((a for a in request_kind(obj).staff_actions(obj) if a.name == name), None)
    seen_phase = http_request.POST.get("seen_phase", "")
    seen_status = http_request.POST.get("seen_status", "")
    current_phase = obj.phase.code if obj.phase is not None else ""
    if action is None or not action_offered(action, obj) or (seen_phase, seen_status) != (current_phase, obj.status):
        messages.error(http_request, f"{obj.number} : {stale_state(obj).message}")
        return HttpResponseRedirect(page)
    if not (
        http_request.user.has_perm(CHANGE_PERMISSION) and http_request.user.has_perm(action_permission(action, obj))
    ):
        raise PermissionDenied
    data = {}
    if action.form_class is not None:
        form = action.form_class(http_request.POST, http_request.FILES, prefix=_prefix(action))
        if not form.is_valid():
            messages.error(http_request, f"{obj.number} : {_form_errors(form)}")
            # the page again, the form bound: what the agent typed is kept, errors by the fields
            http_request.method = "GET"
            response = model_admin.change_view(
                http_request, str(obj.pk), extra_context={"staff_action_bound": {action.name: form}}
            )
            response.status_code = 400
            return response
        data = form.cleaned_data
    try:
        message = action.run(request_id=obj.pk, staff=http_request.user, now=clock.now(), data=data)
    except RakError as exc:
        messages.error(http_request, f"{obj.number} : {exc.message}")
    except ValidationError as exc:
        messages.error(http_request, f"{obj.number} : {' '.join(exc.messages)}")
    else:
        messages.success(http_request, f"{obj.number} : {message or _('action enregistrée.')}")
    return HttpResponseRedirect(page)
