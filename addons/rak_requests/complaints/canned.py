"""The canned replies of « Répondre au client » (message templates ``complaint.canned.*``, edited by
staff in « Modèles de messages »): the text an agent starts a reply from, sent to the customer —
so written in the customer's language (issue 12): the wording lives here, in a customer-facing
module, marked for translation (the back office's admin module registers and offers them), and
``canned_reply_text`` renders one in the complainant's language (``notify.complaint_language``)."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rak_base.api import message_render
from rak_requests.complaints.categories import category_name

CANNED_PREFIX = "complaint.canned."
CANNED_CHANNEL = "BELL"  # one wording per reply; its text is only a starting point for the agent
CANNED_PLACEHOLDERS = {  # i18n: not for customers (the examples: typical values, for the back office)
    "number": (_("numéro de la réclamation"), "REC2026-000123"),
    "name": (_("nom du réclamant"), "Amina Alaoui"),
    "category": (_("catégorie"), "Facturation"),
}
CANNED_REPLIES = [
    (
        "accuse",
        _("Réponse type : accusé de réception"),
        _(
            "Bonjour {name}, nous avons bien reçu votre réclamation {number}. Un conseiller l'étudie et "
            "reviendra vers vous dans les meilleurs délais."
        ),
    ),
    (
        "photo-compteur",
        _("Réponse type : photo du compteur demandée"),
        _(
            "Bonjour {name}, pour traiter votre réclamation {number}, merci de nous envoyer une photo lisible "
            "de votre compteur (index et numéro du compteur) depuis la rubrique « Mes réclamations »."
        ),
    ),
    (
        "facture-conforme",
        _("Réponse type : facture vérifiée et conforme"),
        _(
            "Bonjour {name}, après vérification, la facture concernée par votre réclamation {number} correspond "
            "à l'index relevé sur votre compteur. Une consommation élevée peut venir d'une fuite après compteur : "
            "fermez tous les robinets et vérifiez que le compteur ne tourne pas."
        ),
    ),
    (
        "facture-rectifiee",
        _("Réponse type : facture rectifiée"),
        _(
            "Bonjour {name}, suite à votre réclamation {number}, votre facture a été rectifiée : l'avoir "
            "correspondant sera déduit de votre prochaine facture."
        ),
    ),
    (
        "intervention",
        _("Réponse type : intervention programmée"),
        _(
            "Bonjour {name}, une équipe technique est programmée pour intervenir suite à votre réclamation "
            "{number}. Vous serez informé(e) du résultat."
        ),
    ),
    (
        "coupure",
        _("Réponse type : coupure en cours de rétablissement"),
        _(
            "Bonjour {name}, nos équipes sont mobilisées sur la coupure que vous avez signalée ({number}). "
            "Le service sera rétabli dans les meilleurs délais."
        ),
    ),
]


def canned_reply_text(slug: str, complaint) -> str:
    """Canned reply ``slug`` (as staff edited it in that language) for this complaint, in the
    complainant's language; "" for an unknown slug."""
    from rak_requests.complaints import notify

    if slug not in {s for s, _label, _body in CANNED_REPLIES}:
        return ""
    language = notify.complaint_language(complaint)
    with translation.override(language):
        category = category_name(complaint.category)
    _subject, body = message_render(
        code=CANNED_PREFIX + slug,
        channel=CANNED_CHANNEL,
        context={"number": complaint.number, "name": complaint.name, "category": category},
        language=language,
    )
    return body
