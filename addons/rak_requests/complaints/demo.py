"""Demo complaints for ``bin/run`` (``manage.py demo_complaints --if-empty``): a helpdesk with
work in it — new, in progress, waiting for the customer, overdue, closed and rated — filed through
the real services, so every number, deadline and thread entry is what production would write.
The demo customer (the first code client) gets two of them in « Mes réclamations »."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from rak_base.errors import RakError
from rak_customer.models import Customer, PortalAccount
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints import services
from rak_requests.complaints.errors import ComplaintThrottled

MESSAGES = {  # i18n: not for customers (demo data: what customers typed)
    "facturation": (
        "Facture trop élevée",
        "Ma dernière facture est le double de d'habitude alors que nous étions absents deux semaines.",
    ),
    "releve-compteur": ("Index erroné", "L'index indiqué sur ma facture ne correspond pas à celui de mon compteur."),
    "coupure": ("Plus d'eau depuis ce matin", "Nous n'avons plus d'eau depuis 7 h, les voisins non plus."),
    "fuite": ("Fuite devant l'immeuble", "Une fuite importante coule sur le trottoir devant le n° 12."),
    "qualite-eau": ("Eau trouble", "L'eau du robinet est jaunâtre depuis hier soir."),
    "branchement-travaux": ("Tranchée non refermée", "La tranchée des travaux de branchement n'est pas remblayée."),
    "accueil": ("Attente en agence", "J'ai attendu plus d'une heure à l'agence sans être reçu."),
    "autre": ("Changement d'adresse", "Je souhaite recevoir mes factures à une autre adresse."),
}


class DemoComplaintsRefused(RakError):
    default_message = (  # i18n: not for customers (a staff command)
        "Les réclamations de démonstration ne sont pas créées en production."
    )


@transaction.atomic
def demo_complaints_generate(*, now: datetime, count: int = 24, seed: int = 2026) -> int:
    if getattr(settings, "RAK_MODE", "") == "production":
        raise DemoComplaintsRefused()
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible
    staff = get_user_model().objects.filter(role="STAFF", is_active=True, is_staff=True).order_by("id").first()
    categories = list(ComplaintCategory.objects.filter(is_active=True).order_by("position"))
    demo_account = PortalAccount.objects.select_related("customer", "user").order_by("customer__code").first()
    customers = list(Customer.objects.filter(status="CLIENT").order_by("code")[: count * 3])
    if not categories or not customers:
        return 0
    created = 0
    for i in range(count):
        # the first two are the demo customer's (« Mes réclamations »), the others anybody's
        account = demo_account if i < 2 and demo_account is not None else None
        customer: Customer = account.customer if account else rng.choice(customers)
        user = account.user if account else None
        category = categories[i % len(categories)]
        subject, message = MESSAGES.get(category.code, MESSAGES["autre"])
        phone = customer.contacts.filter(kind="PHONE").values_list("value", flat=True).first() or "+212600000000"
        dossier = customer.dossiers.select_related("premises").first()
        filed_at = now - timedelta(hours=rng.randint(2, 24 * 12))
        filing = services.ComplaintFiling(  # i18n: not for customers (demo data)
            category=category,
            name=customer.display_name,
            phone=phone,
            email=user.email if user else "",
            subject=subject,
            message=message,
            dossier_id=dossier.pk if dossier else None,
            source=Complaint.Source.INCIDENT if category.is_incident else Complaint.Source.FORM,
            address=dossier.premises.address if dossier else "Avenue Mohammed V, Kénitra",
        )
        try:
            complaint = services.complaint_file(filing=filing, customer=customer, user=user, now=filed_at)
        except ComplaintThrottled:
            continue  # the same demo phone drawn too often in a day: the real limit applies

        created += 1
        fate = i % 4
        if staff is None or fate == 0:
            continue  # new, unanswered (some past their deadline)
        reply_at = filed_at + timedelta(hours=rng.randint(1, 20))
        if fate == 1:
            services.complaint_reply(  # i18n: not for customers (demo data)
                complaint_id=complaint.pk,
                staff_user=staff,
                body="Pouvez-vous nous envoyer une photo de votre compteur avec l'index lisible ?",
                asks_information=True,
                channels=("BELL",),
                now=reply_at,
            )
        elif fate == 2:
            services.complaint_take(complaint_id=complaint.pk, staff_user=staff, now=reply_at)
            services.complaint_note(  # i18n: not for customers (demo data)
                complaint_id=complaint.pk,
                staff_user=staff,
                body="Vérification en cours avec l'équipe technique.",
                now=reply_at,
            )
        else:
            services.complaint_close(  # i18n: not for customers (demo data)
                complaint_id=complaint.pk,
                staff_user=staff,
                result=(
                    "Vérification faite : votre réclamation est fondée, la correction apparaîtra sur "
                    "votre prochaine facture."
                ),
                now=reply_at,
            )
            services.complaint_rate(  # i18n: not for customers (demo data)
                complaint_id=complaint.pk,
                customer=customer,
                user=user,
                rating=rng.randint(3, 5),
                comment="Merci pour la réponse rapide.",
                now=reply_at + timedelta(hours=2),
            )
    return created
