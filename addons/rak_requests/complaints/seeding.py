"""The complaint categories of the issue, with their deadlines (data, edited afterwards by the
superviseur in the back office): used by migration 0014 and by the tests' database setup."""

from __future__ import annotations

# code, name, help, sla hours, first answer hours, urgent, incident, service, about bill
CATEGORIES = [
    (
        "facturation",
        "Facturation",
        "Montant d'une facture, consommation facturée, paiement non pris en compte",
        168,
        48,
        False,
        False,
        "",
        True,
    ),
    (
        "releve-compteur",
        "Relevé / compteur",
        "Index relevé, compteur bloqué, cassé ou inaccessible",
        120,
        48,
        False,
        False,
        "",
        False,
    ),
    (
        "coupure",
        "Coupure d'eau ou d'électricité",
        "Plus d'eau ou plus d'électricité chez vous ou dans votre quartier",
        12,
        2,
        True,
        True,
        "",
        False,
    ),
    ("fuite", "Fuite", "Fuite d'eau sur la voie publique, avant ou sur le compteur", 24, 4, True, True, "EAU", False),
    ("qualite-eau", "Qualité de l'eau", "Couleur, goût, odeur ou pression de l'eau", 48, 8, True, False, "EAU", False),
    (
        "branchement-travaux",
        "Branchement / travaux",
        "Délai de branchement, travaux sur la voie publique, remise en état",
        240,
        48,
        False,
        False,
        "",
        False,
    ),
    (
        "accueil",
        "Accueil",
        "Accueil en agence, au téléphone ou sur l'agence en ligne",
        168,
        72,
        False,
        False,
        "",
        False,
    ),
    ("autre", "Autre", "Toute autre réclamation", 168, 72, False, False, "", False),
]


def complaint_categories_seed(category_model=None) -> int:
    """Create the missing categories (existing ones are left as the superviseur edited them)."""
    if category_model is None:
        from rak_requests.complaint_models import ComplaintCategory as category_model  # noqa: N813
    created = 0
    for position, (code, name, help_text, sla, first, urgent, incident, service, about_bill) in enumerate(CATEGORIES):
        _, was_created = category_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": help_text,
                "sla_hours": sla,
                "first_answer_hours": first,
                "is_urgent": urgent,
                "is_incident": incident,
                "service": service,
                "about_bill": about_bill,
                "position": position,
            },
        )
        created += was_created
    return created
