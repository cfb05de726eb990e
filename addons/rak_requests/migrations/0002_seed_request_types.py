"""Seed data: the request types of the seed, their phases (with SLA days) and the documents to
attach. Data, not code: the back office edits names, SLA days, document lists and sizes.

``seed(apps, schema_editor)`` is idempotent (only what is missing is inserted), so tests that
flushed the tables (transactional tests) can call it again.
"""

from django.db import migrations

MB2 = 2 * 1024 * 1024
FORMATS = "pdf,image,zip,rar"

CIN = ("cin", "Copie de la CIN (recto et verso) ou, pour une société, du registre de commerce")
PROPERTY = ("titre_propriete", "Titre de propriété ou contrat de bail")

TYPES = [
    {
        "code": "SUBSCRIPTION",
        "name": "Demande d'abonnement",
        "prefix": "AB",
        "public": True,
        "otp": True,
        "phases": [
            (
                "RECEVABILITE_ADMIN",
                "Recevabilité administrative",
                3,
                "Vérification des documents soumis ; vous pouvez être invité à compléter votre dossier.",
            ),
            (
                "RECEVABILITE_TECH",
                "Recevabilité technique",
                5,
                "Création du dossier d'abonnement et vérification technique de votre local.",
            ),
            (
                "SIGNATURE",
                "Signature du contrat",
                7,
                "Vous signez votre contrat numérique, conservé par la RAK jusqu'au paiement des frais.",
            ),
            (
                "PAIEMENT",
                "Paiement des frais",
                10,
                "Vous payez la facture d'abonnement en ligne ou via l'un des moyens de paiement de la RAK.",
            ),
            ("POSE_COMPTEUR", "Pose du compteur", 5, "Un compteur RAK est posé et vous êtes raccordé au réseau."),
        ],
        "documents": [
            CIN,
            PROPERTY,
            ("attestation_residence", "Attestation de résidence ou plan de situation du local"),
            ("autorisation_habiter", "Permis d'habiter ou certificat de conformité", False),
        ],
    },
    {
        "code": "CONNECTION",
        "name": "Demande de branchement",
        "prefix": "BR",
        "public": True,
        "otp": True,
        "phases": [
            ("ETUDE", "Étude technique", 10, "Étude technique du branchement demandé."),
            ("DEVIS", "Devis", 10, "Le devis est disponible dans « Mes devis » : acceptez-le pour lancer les travaux."),
            ("TRAVAUX", "Travaux", 30, "Réalisation des travaux de branchement."),
        ],
        "documents": [
            CIN,
            PROPERTY,
            ("plan_situation", "Plan de situation du terrain ou de l'immeuble"),
            ("autorisation_construire", "Autorisation de construire", False),
        ],
    },
    {
        "code": "TERMINATION",
        "name": "Demande de résiliation",
        "prefix": "RS",
        "otp": True,
        "phases": [("TRAITEMENT", "Traitement", 5, "")],
        "documents": [("cin", "Pièce d'identité (CIN recto et verso)")],
    },
    {
        "code": "REFUND",
        "name": "Demande de remboursement",
        "prefix": "RB",
        "phases": [("TRAITEMENT", "Traitement", 10, "Un conseiller client prend contact avec vous.")],
        "documents": [],
    },
    {
        "code": "DIRECT_DEBIT",
        "name": "Demande de domiciliation bancaire",
        "prefix": "DB",
        "phases": [("TRAITEMENT", "Traitement", 10, "")],
        "documents": [
            ("formulaire_signe", "Formulaire de domiciliation signé par la banque"),
            ("rib", "Relevé d'identité bancaire (RIB)"),
            ("cin", "Pièce d'identité (CIN recto et verso)"),
        ],
    },
    {
        "code": "ATTESTATION",
        "name": "Demande d'attestation",
        "prefix": "AT",
        "phases": [("TRAITEMENT", "Traitement", 2, "")],
        "documents": [],
    },
    {
        "code": "COLLECTIVE_METER",
        "name": "Tarification des compteurs collectifs",
        "prefix": "CC",
        "phases": [("TRAITEMENT", "Traitement", 15, "")],
        "documents": [
            ("cin", "Pièce d'identité du syndic ou du représentant (CIN recto et verso)"),
            ("pv_syndic", "Procès-verbal de désignation du syndic"),
            ("liste_logements", "Liste des logements desservis par le compteur collectif"),
        ],
    },
]


def seed(apps, schema_editor):
    RequestType = apps.get_model("rak_requests", "RequestType")
    Phase = apps.get_model("rak_requests", "Phase")
    RequiredDocument = apps.get_model("rak_requests", "RequiredDocument")
    for position, spec in enumerate(TYPES, start=1):
        request_type, _ = RequestType.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "number_prefix": spec["prefix"],
                "is_public": spec.get("public", False),
                "requires_otp": spec.get("otp", False),
                "position": position,
            },
        )
        for phase_position, (code, name, sla, help_text) in enumerate(spec["phases"], start=1):
            Phase.objects.get_or_create(
                request_type=request_type,
                code=code,
                defaults={"name": name, "position": phase_position, "sla_days": sla, "customer_help": help_text},
            )
        for doc_position, doc in enumerate(spec["documents"], start=1):
            code, label, *rest = doc
            RequiredDocument.objects.get_or_create(
                request_type=request_type,
                code=code,
                defaults={
                    "label": label,
                    "required": rest[0] if rest else True,
                    "allowed_kinds": FORMATS,
                    "max_bytes": MB2,
                    "position": doc_position,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
