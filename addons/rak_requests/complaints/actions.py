"""Resolving actions on a complaint, offered on its back-office page (H3 renders them: one form per
available action, prefix = code, posted to ``…/<pk>/action/<code>/``):

- « Émettre un avoir » (``credit_note``): a billing complaint with a bill; the credit note through
  ``rak_billing.api.credit_note_issue``, its number in the thread;
- « Envoyer le relevé en vérification » (``reading_review``): the complaint's reading, or its
  dossier's latest read index, put in the review queue (``rak_billing.api.reading_review_request``);
  the reviewer's decision comes back into the thread (``HOOK_READING_REVIEWED``, ``on_reading_reviewed``);
- « Ordre d'intervention » (``intervention``): a field intervention order for the technical team
  (``complaints.interventions.intervention_order``).

Each ``run`` is a service: keyword-only, one transaction, the complaint locked, its effect through
the owning addon, a thread entry (``complaint_action_record``) with the references in ``data``;
refusals are ``RakError`` subclasses with French messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django import forms
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rak_base.errors import RakError
from rak_base.money import money_format
from rak_billing.api import credit_note_issue, reading_review_request
from rak_billing.models import Bill, MeterReading
from rak_customer.models import PortalAccount
from rak_requests.complaint_models import Complaint, ComplaintEntry, FieldIntervention
from rak_requests.complaints.errors import ComplaintClosed, ComplaintError
from rak_requests.complaints.interventions import InterventionOrder, intervention_order
from rak_requests.complaints.services import complaint_action_record

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ComplaintActionRefused(ComplaintError):
    """The action does not apply to this complaint (no bill, no reading…)."""


class ComplaintActionForbidden(ComplaintError):
    default_message = gettext_lazy("Vous n'avez pas l'autorisation d'effectuer cette action.")


# --- forms (the page renders them with prefix = code) -----------------------------------------------


class CreditNoteForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Montant de l'avoir (DH TTC)"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text=gettext_lazy("Au plus le montant restant à créditer sur la facture."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Motif (figure sur l'avoir et dans la réclamation)"),
        max_length=120,
    )


class ReadingReviewForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Ce que le vérificateur doit contrôler"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )


class InterventionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Nature de l'intervention"), choices=FieldIntervention.Kind.choices)
    instructions = forms.CharField(
        label=gettext_lazy("Consignes pour l'équipe technique"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    planned_for = forms.DateField(
        label=gettext_lazy("Prévue le"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    address = forms.CharField(
        label=gettext_lazy("Adresse"),
        required=False,
        max_length=255,
        help_text=gettext_lazy("Vide : l'adresse de la réclamation ou du local concerné."),
    )
    district = forms.CharField(label=gettext_lazy("Quartier"), required=False, max_length=80)


# --- the actions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintAction:
    code: str
    label: StrOrPromise
    permission: str
    form_class: type[forms.Form]
    applies: Callable[[Complaint], bool]
    effect: Callable[..., str]
    help_text: StrOrPromise = ""

    def available(self, complaint: Complaint) -> bool:
        return complaint.is_open and self.applies(complaint)

    def allowed(self, user) -> bool:
        return bool(user is not None and user.is_active and user.has_perm(self.permission))

    @transaction.atomic
    def run(self, *, complaint: Complaint, staff_user, data: dict, now: datetime) -> str:
        """Lock the complaint, check it still applies, do the effect (which records the thread
        entry); returns the message for the agent."""
        if not self.allowed(staff_user):
            raise ComplaintActionForbidden()
        locked = (
            Complaint.objects.select_for_update(of=("self",))
            .select_related("category", "bill", "reading", "dossier__premises", "premises")
            .get(pk=complaint.pk)
        )
        if not locked.is_open:
            raise ComplaintClosed()
        try:
            return self.effect(complaint=locked, staff_user=staff_user, data=data, now=now)
        except ComplaintError:
            raise
        except RakError as exc:  # the owning addon's refusal (ledger, readings): same French message
            raise ComplaintActionRefused(exc.message) from exc


def _money(value: Decimal) -> str:
    return money_format(value, plain_space=True)


def _tell_customer(complaint: Complaint, text: str, *, bell: bool = True) -> None:
    """A resolving step the customer should know of: e-mail and bell (the closure brings the SMS)."""
    from rak_requests.complaints import notify

    channels = (notify.EMAIL, notify.BELL) if bell else (notify.EMAIL,)
    notify.complaint_reply_notify(complaint, text=text, channels=channels)


# « Émettre un avoir »


def _credit_note_applies(complaint: Complaint) -> bool:
    return complaint.bill_id is not None


def _credit_note(*, complaint: Complaint, staff_user, data: dict, now: datetime) -> str:
    bill = complaint.bill
    if bill is None:
        raise ComplaintActionRefused(
            _("Cette réclamation ne porte sur aucune facture : aucun avoir ne peut être émis.")
        )
    if bill.kind == Bill.Kind.CREDIT_NOTE:
        raise ComplaintActionRefused(
            _("La facture de cette réclamation est déjà un avoir : un avoir ne porte pas sur un avoir.")
        )
    reason = (data.get("reason") or "").strip()
    if not reason:
        raise ComplaintActionRefused(_("Indiquez le motif de l'avoir."))
    credited = bill.credit_notes.aggregate(total=Sum("total_ttc"))["total"] or Decimal("0")
    if bill.total_ttc - credited <= 0:
        raise ComplaintActionRefused(_("Cette facture a déjà été entièrement créditée : aucun avoir de plus."))
    amount = data.get("amount")
    if amount is None or Decimal(amount) <= 0:
        raise ComplaintActionRefused(_("Indiquez un montant d'avoir positif."))
    note = credit_note_issue(
        bill=bill,
        reason=f"{reason} (réclamation {complaint.number})",
        issue_date=timezone.localdate(now),
        now=now,
        amount=Decimal(amount),
    )
    from rak_requests.complaints import notify

    amount_text = _money(note.total_ttc)
    with notify.in_complaint_language(complaint):  # the thread entry and the e-mail are the customer's
        body = _(
            "Un avoir n° %(number)s de %(amount)s a été émis sur votre facture n° %(bill)s. Motif : %(reason)s"
        ) % {
            "number": note.number,
            "amount": _money(note.total_ttc),
            "bill": bill.number,
            "reason": reason,
        }
    entry = complaint_action_record(
        complaint_id=complaint.pk,
        staff_user=staff_user,
        now=now,
        body=body,
        data={
            "action": "credit_note",
            "credit_note_id": note.pk,
            "credit_note_number": note.number,
            "bill_id": bill.pk,
            "bill_number": bill.number,
            "amount": str(note.total_ttc),
        },
    )
    _tell_customer(complaint, entry.body)
    return _("Avoir n° %(number)s de %(amount)s émis sur la facture n° %(bill)s.") % {
        "number": note.number,
        "amount": amount_text,
        "bill": bill.number,
    }


# « Envoyer le relevé en vérification »


def complaint_reading(complaint: Complaint) -> MeterReading | None:
    """The reading the complaint is about, else its dossier's latest index read (agent or self
    reading, not rejected)."""
    if complaint.reading_id:
        return complaint.reading
    if not complaint.dossier_id:
        return None
    return (
        MeterReading.objects.filter(dossier_id=complaint.dossier_id)
        .exclude(status=MeterReading.Status.REJECTED)
        .exclude(source=MeterReading.Source.ESTIMATED)
        .order_by("-reading_date", "-id")
        .first()
    )


def _reading_review_applies(complaint: Complaint) -> bool:
    return complaint.reading_id is not None or complaint.dossier_id is not None


def _review_pending_q(reading_id: int):
    """This reading's ACTION entries still waiting for the reviewer's decision (the partial index of
    migration 0017 serves it)."""
    return ComplaintEntry.objects.filter(
        kind=ComplaintEntry.Kind.ACTION, data__action="reading_review", data__reading_id=reading_id
    ).filter(data__review_pending=True)


def _review_pending(complaint: Complaint, reading_id: int) -> bool:
    return _review_pending_q(reading_id).filter(complaint_id=complaint.pk).exists()


def _reading_review(*, complaint: Complaint, staff_user, data: dict, now: datetime) -> str:
    reading = complaint_reading(complaint)
    if reading is None:
        raise ComplaintActionRefused(
            _("Aucun relevé d'index n'est rattaché à cette réclamation ni à son dossier : rien à vérifier.")
        )
    if _review_pending(complaint, reading.pk):
        # refused before the reading is touched: the reviewer deciding it holds the reading and waits
        # for this complaint (the hook), so locking the reading here would deadlock
        raise ComplaintActionRefused(
            _("La vérification de ce relevé est déjà demandée pour cette réclamation : la décision viendra ici.")
        )
    reason = (data.get("reason") or "").strip()
    reading = reading_review_request(
        reading_id=reading.pk, staff_user=staff_user, reason=reason, now=now, reference=complaint.number
    )
    from rak_requests.complaints import notify

    billed = reading.bills.exists()
    when = date_format(reading.reading_date, "d/m/Y")
    with notify.in_complaint_language(complaint):  # the thread entry is the customer's
        body = _(
            "Votre relevé du %(date)s a été envoyé en vérification à nos services techniques. "
            "Vous serez informé de la décision ici."
        ) % {"date": when}
    complaint_action_record(
        complaint_id=complaint.pk,
        staff_user=staff_user,
        now=now,
        body=body,
        data={
            "action": "reading_review",
            "reading_id": reading.pk,
            "reading_date": reading.reading_date.isoformat(),
            "billed": billed,
            "reason": reason,
            "review_pending": True,
        },
    )
    if billed:
        return _(
            "Relevé du %(date)s envoyé en vérification. Il a déjà été facturé : la facture n'est pas modifiée ; "
            "si l'index est rejeté, régularisez-la par un avoir."
        ) % {"date": when}
    return _("Relevé du %(date)s envoyé en vérification : il ne sera pas facturé avant la décision.") % {"date": when}


def _decision_text(*, accepted: bool, when: str, reason: str, billed_numbers) -> str:
    """The reviewer's decision as the thread says it (in the active language)."""
    if accepted:
        body = _("Vérification de votre relevé du %(date)s : l'index est confirmé.") % {"date": when}
    else:
        body = _("Vérification de votre relevé du %(date)s : l'index n'est pas retenu (%(reason)s).") % {
            "date": when,
            "reason": reason,
        }
        if billed_numbers:
            body += " " + _("La facture n° %(bills)s établie sur ce relevé sera régularisée.") % {
                "bills": ", ".join(billed_numbers)
            }
    if accepted and reason:
        body += " " + reason
    return body


def on_reading_reviewed(*, reading_id: int, accepted: bool, reason: str, billed_numbers, staff_user, now, **_extra):
    """``HOOK_READING_REVIEWED``: each complaint that sent this reading to verification and is still
    waiting learns the decision in its thread (visible to the customer); the agent in charge too."""
    from rak_requests.complaints import notify

    pending = list(_review_pending_q(reading_id).select_for_update().select_related("complaint"))
    if not pending:
        return
    # rak_billing told the dossier's customer already (SMS and bell): their portal account gets no
    # second bell for the same decision, only the e-mail and the thread
    customer_id = MeterReading.objects.filter(pk=reading_id).values_list("dossier__customer_id", flat=True).first()
    belled = (
        set(PortalAccount.objects.filter(customer_id=customer_id).values_list("user_id", flat=True))
        if customer_id is not None
        else set()
    )
    for entry in pending:
        entry.data = {**entry.data, "review_pending": False, "decided_at": now.isoformat()}
        entry.save(update_fields=["data"])
        when = entry.data.get("reading_date", "")
        if when:
            when = date_format(datetime.fromisoformat(when).date(), "d/m/Y")
        complaint = entry.complaint
        with notify.in_complaint_language(complaint):  # the thread entry and the e-mail are the customer's
            body = _decision_text(accepted=accepted, when=when, reason=reason, billed_numbers=billed_numbers)
        staff_body = _decision_text(accepted=accepted, when=when, reason=reason, billed_numbers=billed_numbers)
        complaint_action_record(
            complaint_id=complaint.pk,
            staff_user=staff_user,
            now=now,
            body=body,
            data={
                "action": "reading_reviewed",
                "reading_id": reading_id,
                "accepted": accepted,
                "billed_numbers": list(billed_numbers),
            },
        )
        if complaint.is_open:
            told_by_bell = complaint.user_id is not None and complaint.user_id in belled
            _tell_customer(complaint, body, bell=not told_by_bell)
        if complaint.assigned_to_id:
            notify.complaint_staff_notify(
                complaint,
                subject=_("Réclamation %(number)s : décision sur le relevé") % {"number": complaint.number},
                body=staff_body,
            )


# « Ordre d'intervention »


def _intervention_applies(complaint: Complaint) -> bool:
    return True  # any complaint may need someone on site (the address is asked when it has none)


def _intervention(*, complaint: Complaint, staff_user, data: dict, now: datetime) -> str:
    intervention = intervention_order(
        complaint_id=complaint.pk,
        staff_user=staff_user,
        order=InterventionOrder(
            kind=data.get("kind") or "",
            instructions=data.get("instructions") or "",
            planned_for=data.get("planned_for"),
            address=data.get("address") or "",
            district=data.get("district") or "",
        ),
        now=now,
    )
    return _("Ordre d'intervention n° %(number)s émis pour l'équipe technique.") % {"number": intervention.number}


ACTIONS: tuple[ComplaintAction, ...] = (
    ComplaintAction(
        code="credit_note",
        label=gettext_lazy("Émettre un avoir"),
        permission="rak_requests.issue_complaint_credit_note",
        form_class=CreditNoteForm,
        applies=_credit_note_applies,
        effect=_credit_note,
        help_text=gettext_lazy("Un avoir sur la facture contestée ; son numéro est inscrit dans la réclamation."),
    ),
    ComplaintAction(
        code="reading_review",
        label=gettext_lazy("Envoyer le relevé en vérification"),
        # asking is the complaint handler's (facturation, accueil); deciding is the reviewer's
        # (rak_billing.change_meterreading, the technique group) in the readings' review queue
        permission="rak_requests.handle_complaint",
        form_class=ReadingReviewForm,
        applies=_reading_review_applies,
        effect=_reading_review,
        help_text=gettext_lazy(
            "Le relevé entre dans la file de vérification ; un relevé déjà facturé garde sa facture "
            "(régularisation par avoir si l'index est rejeté)."
        ),
    ),
    ComplaintAction(
        code="intervention",
        label=gettext_lazy("Ordre d'intervention"),
        permission="rak_requests.add_fieldintervention",
        form_class=InterventionForm,
        applies=_intervention_applies,
        effect=_intervention,
        help_text=gettext_lazy("Un ordre numéroté pour l'équipe technique ; son compte rendu revient dans le fil."),
    ),
)


def complaint_actions() -> list[ComplaintAction]:
    return list(ACTIONS)


def complaint_action(code: str) -> ComplaintAction | None:
    return next((action for action in ACTIONS if action.code == code), None)


def hooks_register() -> None:
    """Subscribe to the reviewer's decision on a reading (rak_billing fires it)."""
    from rak_base.api import hook_subscribe
    from rak_billing.api import HOOK_READING_REVIEWED

    hook_subscribe(HOOK_READING_REVIEWED, on_reading_reviewed)


__all__ = [
    "ComplaintAction",
    "ComplaintActionForbidden",
    "ComplaintActionRefused",
    "complaint_action",
    "complaint_actions",
    "complaint_reading",
    "hooks_register",
]
