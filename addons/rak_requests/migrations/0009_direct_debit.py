"""Issue 10 — domiciliation bancaire: the seed rows of the type (data, edited in the back office
afterwards): the front desk's « Traitement » phase explained to the customer, and the documents
the seed asks for (« Joignez les pièces demandées sous format PDF, image ou fichier compressé, la
taille des fichiers ne peux pas dépasser 2M »): the form signed by the bank, a RIB, the ID.
Idempotent: only what is missing or still at its seeded default is written."""

from django.db import migrations

MB2 = 2 * 1024 * 1024
FORMATS = "pdf,image,zip,rar"
HELP = (
    "Vérification du formulaire signé par votre banque et de votre RIB ; vous pouvez être invité à "
    "compléter votre demande. Une fois acceptée, vos factures sont prélevées sur votre compte."
)
DOCUMENTS = [
    ("formulaire_signe", "Formulaire de domiciliation signé par la banque", True),
    ("rib", "Relevé d'identité bancaire (RIB)", True),
    ("cin", "Pièce d'identité (CIN recto et verso)", True),
]


def seed(apps, schema_editor):
    RequestType = apps.get_model("rak_requests", "RequestType")
    Phase = apps.get_model("rak_requests", "Phase")
    RequiredDocument = apps.get_model("rak_requests", "RequiredDocument")
    request_type, _ = RequestType.objects.get_or_create(
        code="DIRECT_DEBIT",
        defaults={"name": "Demande de domiciliation bancaire", "number_prefix": "DB", "position": 5},
    )
    phase, _ = Phase.objects.get_or_create(
        request_type=request_type,
        code="TRAITEMENT",
        defaults={"name": "Traitement", "position": 1, "sla_days": 10, "customer_help": HELP},
    )
    if not phase.customer_help:
        phase.customer_help = HELP
        phase.save(update_fields=["customer_help"])
    for position, (code, label, required) in enumerate(DOCUMENTS, start=1):
        RequiredDocument.objects.get_or_create(
            request_type=request_type,
            code=code,
            defaults={
                "label": label,
                "required": required,
                "allowed_kinds": FORMATS,
                "max_bytes": MB2,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0008_refund")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
