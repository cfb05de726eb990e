"""Issue 10 — compteurs collectifs and provisions: the « Compteur collectif » (COLLECTIF) tariff
category in the tariff and VAT tables, and its schedules seeded as data (water, sanitation,
electricity; demo values, docs/TARIFFS.md) so that a dossier given that category is billed and
simulated. Only inserts what is missing (same service, category and start date); reversing removes
the seeded rows that no bill used."""

from datetime import date
from decimal import Decimal as D

from django.db import migrations, models

START = date(2020, 1, 1)  # as the other seeded schedules (0004_seed_tariffs)

CATEGORIES = [
    ("DOMESTIQUE", "Domestique"),
    ("PROFESSIONNEL", "Professionnel / commercial"),
    ("INDUSTRIEL", "Industriel"),
    ("ADMINISTRATION", "Administration"),
    ("BORNE_FONTAINE", "Borne-fontaine"),
    ("COLLECTIF", "Compteur collectif"),
]

COLLECTIVE_NOTE = (
    "Valeurs de démonstration : tarification des compteurs collectifs (familles desservies par un compteur "
    "collectif d'eau et d'électricité, anciennes médinas et quartiers non structurés) — les premières tranches "
    "du tarif domestique élargies pour plusieurs foyers, sans tarification sélective. À remplacer par la grille "
    "de la régie."
)

SCHEDULES = [
    {
        "service": "ELECTRICITE",
        "name": "Électricité — compteur collectif",
        "unit": "kWh",
        "prices_include_tax": True,
        "tranches": [
            (D("0"), D("300"), D("0.9010")),
            (D("300"), D("600"), D("1.0732")),
            (D("600"), None, D("1.1676")),
        ],
        "charges": [
            ("Location du compteur", "FIXED_MONTHLY", D("3.0000"), True, None, None),
            ("Entretien du compteur et du branchement", "FIXED_MONTHLY", D("2.6000"), True, None, None),
            ("TPPAN (taxe audiovisuelle)", "PER_UNIT", D("0.1000"), False, None, D("100")),
            ("TPPAN (taxe audiovisuelle)", "PER_UNIT", D("0.1500"), False, D("100"), D("200")),
            ("TPPAN (taxe audiovisuelle)", "PER_UNIT", D("0.2000"), False, D("200"), None),
        ],
    },
    {
        "service": "EAU",
        "name": "Eau potable — compteur collectif (tranche sociale élargie 0-30 m³)",
        "unit": "m³",
        "prices_include_tax": False,
        "tranches": [
            (D("0"), D("30"), D("2.3700")),
            (D("30"), D("60"), D("7.3900")),
            (D("60"), None, D("10.9800")),
        ],
        "charges": [
            ("Redevance fixe (location et entretien du compteur)", "FIXED_MONTHLY", D("6.0000"), True, None, None)
        ],
    },
    {
        "service": "ASSAINISSEMENT",
        "name": "Assainissement — compteur collectif",
        "unit": "m³",
        "prices_include_tax": False,
        "tranches": [
            (D("0"), D("30"), D("0.7500")),
            (D("30"), None, D("3.5100")),
        ],
        "charges": [("Redevance fixe d'assainissement", "FIXED_MONTHLY", D("3.0000"), True, None, None)],
    },
]

LF2024 = "Loi de finances 2024 (CGI art. 91 et 99) : usage domestique exonéré (foyers d'un compteur collectif)"
VAT_RATES = [
    ("EAU", "COLLECTIF", date(2024, 1, 1), D("0.0000"), LF2024),
    ("ASSAINISSEMENT", "COLLECTIF", date(2024, 1, 1), D("0.0000"), LF2024),
]


def seed(apps, schema_editor):
    TariffSchedule = apps.get_model("rak_billing", "TariffSchedule")
    TariffTranche = apps.get_model("rak_billing", "TariffTranche")
    TariffCharge = apps.get_model("rak_billing", "TariffCharge")
    VatRate = apps.get_model("rak_billing", "VatRate")
    for spec in SCHEDULES:
        if TariffSchedule.objects.filter(service=spec["service"], category="COLLECTIF").exists():
            continue  # already there, or entered by hand
        schedule = TariffSchedule.objects.create(
            service=spec["service"],
            category="COLLECTIF",
            name=spec["name"],
            unit=spec["unit"],
            valid_from=START,
            prices_include_tax=spec["prices_include_tax"],
            combination="PROGRESSIVE",
            switch_threshold=None,
            source=COLLECTIVE_NOTE,
        )
        TariffTranche.objects.bulk_create(
            TariffTranche(
                schedule=schedule,
                position=i,
                mode="PROGRESSIVE",
                lower_bound=lower,
                upper_bound=upper,
                unit_price=price,
            )
            for i, (lower, upper, price) in enumerate(spec["tranches"], start=1)
        )
        TariffCharge.objects.bulk_create(
            TariffCharge(
                schedule=schedule,
                position=i,
                label=label,
                kind=kind,
                amount=amount,
                taxable=taxable,
                lower_bound=lower,
                upper_bound=upper,
            )
            for i, (label, kind, amount, taxable, lower, upper) in enumerate(spec["charges"], start=1)
        )
    for service, category, valid_from, rate, source in VAT_RATES:
        VatRate.objects.get_or_create(
            service=service, category=category, valid_from=valid_from, defaults={"rate": rate, "source": source}
        )


def unseed(apps, schema_editor):
    TariffSchedule = apps.get_model("rak_billing", "TariffSchedule")
    VatRate = apps.get_model("rak_billing", "VatRate")
    Bill = apps.get_model("rak_billing", "Bill")
    for spec in SCHEDULES:
        if Bill.objects.filter(dossier__service=spec["service"], dossier__tariff_category="COLLECTIF").exists():
            continue
        TariffSchedule.objects.filter(
            service=spec["service"], category="COLLECTIF", valid_from=START, name=spec["name"]
        ).delete()
    for service, category, valid_from, rate, _source in VAT_RATES:
        VatRate.objects.filter(service=service, category=category, valid_from=valid_from, rate=rate).delete()


def _category(blank: bool = False):
    options = {"help_text": "Vide : toutes les catégories.", "blank": True} if blank else {}
    return models.CharField(choices=CATEGORIES, max_length=16, verbose_name="catégorie tarifaire", **options)


class Migration(migrations.Migration):
    dependencies = [("rak_billing", "0017_termination"), ("rak_customer", "0010_collective_meter")]

    operations = [
        migrations.AlterField(model_name="historicaltariffschedule", name="category", field=_category()),
        migrations.AlterField(model_name="historicalvatrate", name="category", field=_category(blank=True)),
        migrations.AlterField(model_name="tariffschedule", name="category", field=_category()),
        migrations.AlterField(model_name="vatrate", name="category", field=_category(blank=True)),
        migrations.RunPython(seed, unseed),
    ]
