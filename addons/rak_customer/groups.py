"""Staff groups of the back office and their permissions, kept in code.

``staff_groups_sync`` is run after every ``migrate`` (post_migrate, connected in
``RakCustomerConfig.ready``): permissions only exist once post_migrate has created them, so a data
migration cannot do it. The code is the source of truth: each group gets exactly the permissions
listed here (a permission added by hand in the back office is removed at the next migrate; change
this file instead, where the change is reviewed).

Permissions are written ``app_label.codename``; ``*`` and ``?`` are wildcards (fnmatch), so
``rak_billing.*`` also covers billing models that do not exist yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fnmatch import fnmatchcase

from django.db import DEFAULT_DB_ALIAS, transaction

logger = logging.getLogger(__name__)

# What every staff member who opens a customer's page needs to read it.
_CUSTOMER_360_VIEW = (
    "rak_customer.view_customer",
    "rak_customer.view_contact",
    "rak_customer.view_dossier",
    "rak_customer.view_premises",
    "rak_customer.view_meter",
    "rak_customer.view_agency",
)


@dataclass(frozen=True)
class GroupSpec:
    label: str
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()

    def matches(self, permission: str) -> bool:
        return any(fnmatchcase(permission, p) for p in self.include) and not any(
            fnmatchcase(permission, p) for p in self.exclude
        )


STAFF_GROUPS: dict[str, GroupSpec] = {
    "accueil": GroupSpec(
        label="Accueil (agences, centre de relation client)",
        include=(
            *_CUSTOMER_360_VIEW,
            # « change contacts »: phone numbers and e-mails, checked in person at the counter
            "rak_customer.add_contact",
            "rak_customer.change_contact",
            "rak_customer.delete_contact",
            # portal account: read it, « Renvoyer un mot de passe »
            "rak_customer.view_portalaccount",
            "rak_customer.change_portalaccount",
            # the two queues of the front desk
            "rak_customer.view_changerequest",
            "rak_customer.change_changerequest",
            "rak_customer.view_contactmessage",
            "rak_customer.change_contactmessage",
            # what was sent to the customer (read only), and the wording of those messages
            "rak_base.view_message",
            "rak_base.view_messagetemplate",
            # the mobile channel (issue 13): the customer's connected devices (sign one out), the codes
            # clients linked to the account (detach one), how they want to hear from us (read only)
            "rak_customer.view_device",
            "rak_customer.change_device",
            "rak_customer.view_customerlink",
            "rak_customer.change_customerlink",
            "rak_base.view_notificationpreference",
            "rak_base.view_pushsubscription",
            # bills and payments at the counter: read the bills and the account, record a payment
            "rak_billing.view_bill",
            "rak_billing.view_billline",
            "rak_billing.view_ledgerentry",
            "rak_billing.view_payment",
            "rak_billing.add_payment",
            # the counter's cash closing (issue 14): « Clôturer ma caisse », their own closings
            "rak_collections.add_cashclosing",
            "rak_collections.view_cashclosing",
            # refunds (« Demande de remboursement »): read them, « Enregistrer le remboursement »
            "rak_billing.view_refund",
            "rak_billing.add_refund",
            "rak_base.view_document",
            # requests (demandes): the queues, the actions of a phase, the attachments, the history
            "rak_requests.view_servicerequest",
            "rak_requests.change_servicerequest",
            "rak_requests.act_administrative_phase",  # recevabilité administrative, traitement...
            "rak_requests.add_servicerequest",  # « Déposer une demande » at the counter (customer 360)
            "rak_requests.view_attachment",
            "rak_requests.view_requestevent",
            "rak_requests.view_requesttype",
            "rak_requests.view_phase",
            "rak_requests.view_requireddocument",
            # « Appeler »: the call queue and the identity check
            "rak_requests.view_callrequest",
            "rak_requests.change_callrequest",
            "rak_requests.view_contract",
            "rak_requests.view_quote",  # « où en est mon devis ? » at the counter
            # complaints (issue 11): the helpdesk queue, replies, notes, closure; « Contactez-nous » turned
            # into a complaint; interventions and outage notices read only (to answer the customer)
            "rak_requests.view_complaint",
            "rak_requests.add_complaint",
            "rak_requests.change_complaint",
            "rak_requests.handle_complaint",
            "rak_requests.view_complaintentry",
            "rak_requests.view_complaintcategory",
            "rak_requests.view_fieldintervention",
            "rak_requests.add_fieldintervention",
            "rak_requests.view_outagenotice",
        ),
    ),
    "technique": GroupSpec(
        label="Technique (compteurs, locaux, branchements)",
        include=(
            *_CUSTOMER_360_VIEW,
            # requests: the queues, the technical phases (recevabilité technique, étude, travaux),
            # the attachments and the history; types and phases read only
            "rak_requests.view_servicerequest",
            "rak_requests.change_servicerequest",
            "rak_requests.act_technical_phase",  # recevabilité technique, étude, devis, travaux, pose
            # the collections desk's field work (issue 14): cut-off and reconnection orders, done or not
            "rak_collections.view_cutofforder",
            "rak_collections.change_cutofforder",
            "rak_collections.execute_cutofforder",
            "rak_collections.view_reconnectionorder",
            "rak_collections.change_reconnectionorder",
            "rak_requests.view_attachment",
            "rak_requests.view_requestevent",
            "rak_requests.view_requesttype",
            "rak_requests.view_phase",
            "rak_requests.view_requireddocument",
            "rak_requests.view_contract",
            # « Émettre un devis » after the technical study, the PDF it registers
            "rak_requests.view_quote",
            "rak_requests.add_quote",
            "rak_base.view_document",
            # « Pose du compteur »: the installation orders, recording the meter installed
            "rak_requests.view_installationorder",
            "rak_requests.change_installationorder",
            "rak_customer.add_meter",
            "rak_customer.change_meter",
            "rak_customer.add_premises",
            "rak_customer.change_premises",
            # a dossier's meter and premises; its service stays read only (DossierAdmin, services)
            "rak_customer.change_dossier",
            # readings: the list, the abnormal / contested ones to review, the photos; the rounds
            "rak_billing.view_meterreading",
            "rak_billing.change_meterreading",
            "rak_billing.view_readinground",
            # complaints (issue 11): the technical ones (fuite, coupure, qualité, compteur), the field
            # intervention orders and their reports, the outage and works notices (publish them)
            "rak_requests.view_complaint",
            "rak_requests.change_complaint",
            "rak_requests.handle_complaint",
            "rak_requests.view_complaintentry",
            "rak_requests.view_complaintcategory",
            "rak_requests.view_fieldintervention",
            "rak_requests.add_fieldintervention",
            "rak_requests.change_fieldintervention",
            "rak_requests.perform_intervention",
            "rak_requests.view_outagenotice",
            "rak_requests.add_outagenotice",
            "rak_requests.change_outagenotice",
            "rak_requests.publish_outagenotice",
        ),
    ),
    "facturation": GroupSpec(
        label="Facturation",
        include=(
            *_CUSTOMER_360_VIEW,
            # tariffs, readings and their imports, billing runs, bills, credit notes, the ledger
            "rak_billing.*",
            # a dossier's tariff category, billing mode, deposit and service (métier)
            "rak_customer.change_dossier",
            "rak_customer.change_dossier_service",
            "rak_base.view_document",  # the PDFs issued (bills), for the verification page's questions
            "rak_requests.view_quote",  # the works invoices follow the accepted quotes
            # billing complaints (issue 11): answer them, « Émettre un avoir », send a reading to review
            "rak_requests.view_complaint",
            "rak_requests.change_complaint",
            "rak_requests.handle_complaint",
            "rak_requests.issue_complaint_credit_note",
            "rak_requests.view_complaintentry",
            "rak_requests.view_complaintcategory",
            "rak_requests.view_fieldintervention",
            "rak_requests.add_fieldintervention",
        ),
        # Money received is recouvrement's (and the front desk's counter): separation of duties.
        exclude=(
            "rak_billing.add_payment*",
            "rak_billing.change_payment*",
            "rak_billing.delete_payment*",
            "rak_billing.*reverse*",
            # money paid back is recouvrement's and the front desk's, as money received
            "rak_billing.add_refund*",
            "rak_billing.change_refund*",
            "rak_billing.delete_refund*",
            "rak_billing.cancel_refund",
            # the direct-debit files record and reverse payments: recouvrement's too
            "rak_billing.export_debitbatch",
            "rak_billing.add_debitrejectimport",
            "rak_billing.archive_debitrejectimport",
        ),
    ),
    "recouvrement": GroupSpec(
        label="Recouvrement",
        include=(
            *_CUSTOMER_360_VIEW,
            "rak_base.view_message",
            # unpaid follow-up: bills (« Exigibles »), the customer's account; receipts' PDFs
            "rak_billing.view_bill",
            "rak_billing.view_billline",
            "rak_billing.view_ledgerentry",
            "rak_base.view_document",
            # payments: the list, the counter (« Paiement au guichet »)
            "rak_billing.view_payment*",
            "rak_billing.add_payment",
            "rak_billing.reverse_payment",  # « Annuler le paiement », with a reason
            # refunds: the list, « Annuler le remboursement » (with a reason)
            "rak_billing.view_refund*",
            "rak_billing.add_refund",
            "rak_billing.cancel_refund",
            # direct debit: « Exporter les prélèvements du mois » (payments recorded), « Importer les
            # rejets » (payments reversed), the mandates, orders and files
            "rak_billing.view_mandate",
            "rak_billing.view_debitbatch",
            "rak_billing.view_debitorder",
            "rak_billing.view_debitrejectimport",
            "rak_billing.export_debitbatch",
            "rak_billing.add_debitrejectimport",
            "rak_billing.archive_debitrejectimport",
            "rak_payment_cmi.view_*",
            # other networks' payment files and the CMI reconciliation (one-click resolution)
            "rak_payment_cmi.add_networkpaymentimport",
            "rak_payment_cmi.archive_networkpaymentimport",  # « Archiver », never delete
            "rak_payment_cmi.add_settlementimport",
            "rak_payment_cmi.change_settlementline",
            # complaints about payments (issue 11): read the helpdesk, answer and close
            "rak_requests.view_complaint",
            "rak_requests.change_complaint",
            "rak_requests.handle_complaint",
            "rak_requests.view_complaintentry",
            "rak_requests.view_complaintcategory",
            # the collections desk (issue 14): reminder plans and cases, cut-off and reconnection
            # orders (issue, cancel), payment plans (échéanciers), the counters' cash closing; the
            # managers' reports (the receivables ageing is their work list)
            "rak_collections.*",
            "rak_reports.view_reports",
        ),
        # Tariffs and billing runs are facturation's; readings are technique's.
    ),
    # Managers (issue 14): the reports and their exports, and enough of the back office to follow a
    # figure down to a customer (read only).
    "direction": GroupSpec(
        label="Direction",
        include=(
            "rak_reports.view_*",  # the reports, their aggregates' freshness, the monthly reports sent
            *_CUSTOMER_360_VIEW,
            "rak_billing.view_bill",
            "rak_billing.view_billline",
            "rak_billing.view_ledgerentry",
            "rak_billing.view_payment",
            "rak_collections.view_*",
            "rak_collections.supervise_cashclosing",  # every agency's closings and their differences
            "rak_requests.view_servicerequest",
            "rak_requests.view_complaint",
        ),
    ),
    "superviseur": GroupSpec(
        label="Superviseur",
        include=(
            "rak_*.*",  # every business addon, their historical models (history) included
            "rak_base.view_message",
            "rak_base.change_message",  # « Renvoyer » a failed message
            # « Modèles de messages »: the wording of SMS, e-mails and notifications (only this group)
            "rak_base.view_messagetemplate",
            "rak_base.change_messagetemplate",
            "rak_base.view_historicalmessagetemplate",
            "rak_base.view_onetimecode",
            "rak_base.view_sequence",
            "rak_base.view_user",
            "axes.view_accessattempt",
            "axes.delete_accessattempt",  # unlock a customer locked out after too many failures
            "axes.view_accesslog",
            "axes.view_accessfailurelog",
            # the scheduler's jobs (last run, last error, activation) and the worker's task list
            "rak_base.view_scheduledjob",
            "rak_base.change_scheduledjob",
            "django_tasks_database.view_dbtaskresult",
            "rak_base.view_workerheartbeat",  # « Workers »: each worker process's last heartbeat
        ),
        # Staff accounts (and so who is superuser) stay with the administrators.
        exclude=(
            "rak_base.add_*",
            "rak_base.delete_*",
            "rak_base.change_user",
            "rak_base.change_onetimecode",
            "rak_base.change_sequence",
        ),
    ),
}


def staff_group_permissions(spec: GroupSpec, *, using: str = DEFAULT_DB_ALIAS) -> list[int]:
    from django.contrib.auth.models import Permission

    rows = Permission.objects.using(using).values_list("pk", "content_type__app_label", "codename")
    wanted = [pk for pk, app_label, codename in rows if spec.matches(f"{app_label}.{codename}")]
    existing = {f"{app_label}.{codename}" for _, app_label, codename in rows}
    for name in spec.include:
        if not any(ch in name for ch in "*?[") and name not in existing:
            logger.warning("staff groups: permission %s does not exist (yet)", name)
    return wanted


def staff_groups_sync(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Create the staff groups if missing and give each exactly its permissions. Idempotent.
    Returns {group name: number of permissions}."""
    from django.contrib.auth.models import Group

    result = {}
    with transaction.atomic(using=using):
        for name, spec in STAFF_GROUPS.items():
            group, _ = Group.objects.using(using).get_or_create(name=name)
            permission_ids = staff_group_permissions(spec, using=using)
            group.permissions.set(permission_ids)
            result[name] = len(permission_ids)
    return result


def staff_groups_post_migrate(sender, app_config=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate is sent once per app, and each app's permissions are created by its own
    emission: sync once, after the last app that has models."""
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if not with_models or app_config is None or app_config.label != with_models[-1].label:
        return
    result = staff_groups_sync(using=using)
    if kwargs.get("verbosity", 1) >= 2:
        print(f"Staff groups synced: {result}")  # noqa: T201 - migrate output
