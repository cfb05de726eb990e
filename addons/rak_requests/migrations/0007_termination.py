"""Issue 10 — résiliation: the phases of « Demande de résiliation » (data, edited in the back office):
Traitement (front desk: accept, complement, reject) -> Relève finale (the final index: the customer's
own with a photo, or the technician's entered by staff) -> Clôture du compte (the system: final bill,
deposit, dossier terminated). The identity document: PDF, image or archive, 2 Mo at most.

``seed`` is idempotent (only what is missing is inserted or fixed), so tests that flushed the tables
can call it again after ``0002_seed_request_types.seed``."""

from django.db import migrations

MB2 = 2 * 1024 * 1024
PHASES = [
    (
        "TRAITEMENT",
        "Traitement",
        5,
        "Vérification de votre demande et de votre pièce d'identité ; vous pouvez être invité à compléter "
        "votre dossier.",
    ),
    (
        "RELEVE_FINALE",
        "Relève finale",
        5,
        "Communiquez l'index final de votre compteur avec sa photo depuis cette page, ou un technicien de la "
        "RAK relève votre compteur.",
    ),
    (
        "CLOTURE",
        "Clôture du compte",
        1,
        "Facture de clôture, dépôt de garantie déduit de vos dernières factures et dossier résilié.",
    ),
]


def seed(apps, schema_editor):
    RequestType = apps.get_model("rak_requests", "RequestType")
    Phase = apps.get_model("rak_requests", "Phase")
    RequiredDocument = apps.get_model("rak_requests", "RequiredDocument")
    request_type, _created = RequestType.objects.get_or_create(
        code="TERMINATION",
        defaults={"name": "Demande de résiliation", "number_prefix": "RS", "requires_otp": True, "position": 3},
    )
    if not request_type.requires_otp:
        request_type.requires_otp = True
        request_type.save(update_fields=["requires_otp"])
    existing = {phase.code: phase for phase in Phase.objects.filter(request_type=request_type)}
    if not set(existing) - {code for code, *_rest in PHASES}:  # positions only on our own phases
        for position, (code, name, sla, help_text) in enumerate(PHASES, start=1):
            phase = existing.get(code)
            if phase is None:
                Phase.objects.create(
                    request_type=request_type,
                    code=code,
                    name=name,
                    position=position,
                    sla_days=sla,
                    customer_help=help_text,
                )
            elif not phase.customer_help:
                phase.customer_help = help_text
                phase.save(update_fields=["customer_help"])
    RequiredDocument.objects.get_or_create(
        request_type=request_type,
        code="cin",
        defaults={
            "label": "Pièce d'identité (CIN recto et verso)",
            "required": True,
            "allowed_kinds": "pdf,image,zip,rar",
            "max_bytes": MB2,
            "position": 1,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0006_kinds_phases_actions")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
