"""Demo « Les actualités de la RAK » for the dashboard's slider (seed 000, « Tableau de bord »):
what a régie publishes — a planned cut, the online payment, an agency's hours. Written by staff in
the back office in real life (« Actualités »), in French like the rest of their content."""

from __future__ import annotations

from datetime import datetime, timedelta

from rak_portal.models import NewsItem

DEMO_NEWS = (
    (
        "Coupure d'eau programmée à Maamora",
        "Pour des travaux de renouvellement du réseau, l'eau sera coupée mardi de 9 h à 13 h dans le "
        "quartier Maamora. Prévoyez une réserve ; l'alimentation revient progressivement.",
    ),
    (
        "Payez vos factures en ligne, 24 h sur 24",
        "Réglez vos factures par carte bancaire depuis l'agence en ligne ou l'application mobile : "
        "le reçu vous est envoyé par e-mail et reste disponible dans votre espace.",
    ),
    (
        "Relevez votre compteur vous-même",
        "Pendant la période de relève, saisissez l'index de votre compteur dans « Auto-relève » : "
        "votre facture sera établie sur votre consommation réelle.",
    ),
)


def demo_news_create(*, now: datetime) -> int:
    """The demo's news, published yesterday, in the slider's order; returns how many were created."""
    items = [
        NewsItem(title=title, summary=summary, published_at=now - timedelta(days=1), position=position)
        for position, (title, summary) in enumerate(DEMO_NEWS)
    ]
    NewsItem.objects.bulk_create(items)
    return len(items)
