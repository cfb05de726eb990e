"""Issue 10 — « Demande de bénéficier du système tarification des compteurs collectifs »: the type's
seed rows as the seed 000 describes it (data, edited in the back office afterwards).

- name: the seed's title (when still the first seeded name);
- documents: the two signed templates — « Demande signée » and « Attestation administrative signée
  par les autorités locales » (PDF, image or archive, ≤ 2 Mo) — replace the three rows seeded by
  0002 (syndic's ID, PV, list of dwellings), which the seed does not ask for;
- phases: TRAITEMENT (front desk: the signed request and the attestation are checked), then ENQUETE
  « Enquête technique » (technical service: the place is served by collective meters).

Idempotent (only what is missing or still as first seeded changes); reversing leaves the rows."""

from django.db import migrations

MB2 = 2 * 1024 * 1024
FORMATS = "pdf,image,zip,rar"
OLD_NAME = "Tarification des compteurs collectifs"
NAME = "Demande de bénéficier du système tarification des compteurs collectifs"
OLD_DOCUMENTS = ("cin", "pv_syndic", "liste_logements")
DOCUMENTS = [
    ("demande_signee", "Demande signée"),
    ("attestation_administrative", "Attestation administrative signée par les autorités locales"),
]
PHASES = [
    ("TRAITEMENT", "Traitement", 5, "Vérification de votre demande signée et de l'attestation administrative."),
    (
        "ENQUETE",
        "Enquête technique",
        10,
        "Un agent technique vérifie que votre lieu de résidence est équipé de compteurs collectifs.",
    ),
]


def seed(apps, schema_editor):
    RequestType = apps.get_model("rak_requests", "RequestType")
    Phase = apps.get_model("rak_requests", "Phase")
    RequiredDocument = apps.get_model("rak_requests", "RequiredDocument")
    request_type = RequestType.objects.filter(code="COLLECTIVE_METER").first()
    if request_type is None:
        return
    if request_type.name == OLD_NAME:
        request_type.name = NAME
        request_type.save(update_fields=["name"])
    RequiredDocument.objects.filter(request_type=request_type, code__in=OLD_DOCUMENTS).delete()
    for position, (code, label) in enumerate(DOCUMENTS, start=1):
        RequiredDocument.objects.get_or_create(
            request_type=request_type,
            code=code,
            defaults={
                "label": label,
                "required": True,
                "allowed_kinds": FORMATS,
                "max_bytes": MB2,
                "position": position,
            },
        )
    for position, (code, name, sla, help_text) in enumerate(PHASES, start=1):
        phase = Phase.objects.filter(request_type=request_type, code=code).first()
        if phase is None:
            taken = Phase.objects.filter(request_type=request_type, position=position).exists()
            Phase.objects.create(
                request_type=request_type,
                code=code,
                name=name,
                position=position if not taken else 100 + position,
                sla_days=sla,
                customer_help=help_text,
            )
        elif code == "TRAITEMENT" and not phase.customer_help:
            phase.customer_help = help_text
            phase.sla_days = sla
            phase.save(update_fields=["customer_help", "sla_days"])


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0010_attestation")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
