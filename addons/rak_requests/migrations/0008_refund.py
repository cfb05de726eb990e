"""Issue 10 — remboursement: the phases of « Demande de remboursement » (data, edited in the back
office): « Demande en attente » (TRAITEMENT: a customer advisor calls the customer to confirm the
request and explain the steps — seed 000) -> « Versement du remboursement » (VERSEMENT: staff record
the payout, « Enregistrer le remboursement »). No document to attach.

``seed`` is idempotent (only what is missing is inserted, a name still at its 0002 default is
updated), so tests that flushed the tables can call it again after ``0002_seed_request_types.seed``."""

from django.db import migrations

PHASES = [
    (
        "TRAITEMENT",
        "Demande en attente",
        5,
        "Un conseiller client prend contact avec vous pour confirmer votre demande et vous expliquer les démarches.",
    ),
    (
        "VERSEMENT",
        "Versement du remboursement",
        10,
        "Le remboursement vous est versé par virement sur votre compte bancaire, par chèque ou en espèces à "
        "l'agence, selon ce que vous avez convenu avec votre conseiller.",
    ),
]
DEFAULT_NAMES = {"Traitement", ""}  # what 0002 gave the first phase


def seed(apps, schema_editor):
    RequestType = apps.get_model("rak_requests", "RequestType")
    Phase = apps.get_model("rak_requests", "Phase")
    request_type, _created = RequestType.objects.get_or_create(
        code="REFUND",
        defaults={"name": "Demande de remboursement", "number_prefix": "RB", "position": 4},
    )
    existing = {phase.code: phase for phase in Phase.objects.filter(request_type=request_type)}
    if set(existing) - {code for code, *_rest in PHASES}:  # phases edited by hand: leave them
        return
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
        elif phase.name in DEFAULT_NAMES:
            phase.name = name
            phase.customer_help = phase.customer_help or help_text
            phase.save(update_fields=["name", "customer_help"])


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0007_termination")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
