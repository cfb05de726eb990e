"""The complaint categories of the guides (issue 11), as data: code, wording, deadlines.

Their name and description are customer-facing (« Envoyer une réclamation », « Mes réclamations »):
marked here with ``gettext_noop`` so that the catalogues hold them, stored in French by the seed
(``seeding.complaint_categories_seed``), shown translated with ``{% translate category.name %}`` /
``category_name(category)``. A wording the superviseur changed later in the back office is not in
the catalogues and simply shows as typed.

This module is customer-facing (extracted for Arabic and English); ``seeding.py`` beside it, which
writes the rows, is staff-only."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

# code, name, help, sla hours, first answer hours, urgent, incident, service, about bill
CATEGORIES = [
    (
        "facturation",
        gettext_noop("Facturation"),
        gettext_noop("Montant d'une facture, consommation facturée, paiement non pris en compte"),
        168,
        48,
        False,
        False,
        "",
        True,
    ),
    (
        "releve-compteur",
        gettext_noop("Relevé / compteur"),
        gettext_noop("Index relevé, compteur bloqué, cassé ou inaccessible"),
        120,
        48,
        False,
        False,
        "",
        False,
    ),
    (
        "coupure",
        gettext_noop("Coupure d'eau ou d'électricité"),
        gettext_noop("Plus d'eau ou plus d'électricité chez vous ou dans votre quartier"),
        12,
        2,
        True,
        True,
        "",
        False,
    ),
    (
        "fuite",
        gettext_noop("Fuite"),
        gettext_noop("Fuite d'eau sur la voie publique, avant ou sur le compteur"),
        24,
        4,
        True,
        True,
        "EAU",
        False,
    ),
    (
        "qualite-eau",
        gettext_noop("Qualité de l'eau"),
        gettext_noop("Couleur, goût, odeur ou pression de l'eau"),
        48,
        8,
        True,
        False,
        "EAU",
        False,
    ),
    (
        "branchement-travaux",
        gettext_noop("Branchement / travaux"),
        gettext_noop("Délai de branchement, travaux sur la voie publique, remise en état"),
        240,
        48,
        False,
        False,
        "",
        False,
    ),
    (
        "accueil",
        gettext_noop("Accueil"),
        gettext_noop("Accueil en agence, au téléphone ou sur l'agence en ligne"),
        168,
        72,
        False,
        False,
        "",
        False,
    ),
    ("autre", gettext_noop("Autre"), gettext_noop("Toute autre réclamation"), 168, 72, False, False, "", False),
]


def category_name(category) -> str:
    """The category's name in the active language (the seed's wording translated; a name staff
    typed shows as typed)."""
    return gettext(category.name) if category is not None and category.name else ""


def category_description(category) -> str:
    return gettext(category.description) if category is not None and category.description else ""
