"""``{% termination_block %}``: the termination's own block on a request's page (« Suivre ma demande
de résiliation »): the dossiers and, while the request waits for it, the form of the customer's final
index; once accepted, each dossier's final bill, deposit and balance (débiteur / créditeur)."""

from decimal import Decimal

from django import template

from rak_billing.api import dossier_closings
from rak_requests.models import RequestType, ServiceRequest

register = template.Library()


@register.inclusion_tag("rak_portal/requests/_termination.html", takes_context=True)
def termination_block(context):
    r = context.get("r")
    if r is None or r.request_type.code != RequestType.Code.TERMINATION:
        return {"show": False}
    from rak_portal.views.termination import final_index_form

    dossiers = list(r.dossiers.select_related("premises", "meter").order_by("number"))
    closings = dossier_closings([d.pk for d in dossiers])
    rows = []
    for dossier in dossiers:
        closing = closings.get(dossier.pk)
        rows.append({"dossier": dossier, "closing": closing, "balance_abs": abs(closing.balance) if closing else None})
    closed = [row["closing"] for row in rows if row["closing"] is not None and row["closing"].closed_at]
    balance = sum((c.balance for c in closed), Decimal("0.00"))
    form = context.get("final_index_form") or final_index_form(r)
    return {
        "show": True,
        "r": r,
        "rows": rows,
        "form": form,
        "accepted": r.status == ServiceRequest.Status.ACCEPTEE and bool(closed),
        "balance": balance,
        "balance_abs": abs(balance),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
