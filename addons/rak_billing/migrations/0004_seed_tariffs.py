"""Seed the tariffs: published electricity prices (arrêté 2451-14), TPPAN (loi de finances 8-96,
art. 16), a Moroccan water + sanitation grid with its social tranche (ONEE - Branche Eau), VAT
rates versioned by date (loi de finances 2024). Sources, and what is a demo value: docs/TARIFFS.md.

Only inserts rows that are not there yet (same service, category and start date), so it can run
on a database where staff already entered schedules by hand."""

from datetime import date
from decimal import Decimal as D

from django.db import migrations

START = date(2020, 1, 1)  # demo start of validity: covers the demo history (see docs/TARIFFS.md)

ELEC_SOURCE = (
    "Prix TTC publiés (arrêté 2451-14, ONEE, usage domestique) : 0-100 kWh 0,9010 ; 101-150 kWh 1,0732 ; "
    "au-delà de 150 kWh/mois tarification sélective 151-210 1,0732 ; 211-310 1,1676 ; 311-510 1,3817 ; "
    ">510 1,5958 DH/kWh. TPPAN : loi de finances n° 8-96, art. 16. Redevances fixes : valeurs de démonstration."
)
ELEC_PRO_SOURCE = "Valeurs de démonstration (tarif basse tension professionnel non vérifié), prix TTC. TPPAN : LF 8-96."
WATER_SOURCE = (
    "Grille ONEE - Branche Eau (Direction régionale des provinces sahariennes), prix HT : 0-6 m³ 2,37 ; "
    "7-12 m³ 7,39 ; 13-20 m³ 7,39 ; 21-35 m³ 10,98 ; >35 m³ 11,03 DH/m³ ; redevance fixe 6 DH/mois (domestique)."
)
SANITATION_SOURCE = (
    "Grille ONEE - Branche Eau (Direction régionale des provinces sahariennes), prix HT : 0-6 m³ 0,75 ; "
    "7-20 m³ 3,51 ; >20 m³ 4,71 DH/m³ ; redevance fixe 3 DH/mois (domestique)."
)

FIXED_ELEC = [
    ("Location du compteur", "FIXED_MONTHLY", D("3.0000"), True, None, None),
    ("Entretien du compteur et du branchement", "FIXED_MONTHLY", D("2.6000"), True, None, None),
]
TPPAN = [
    ("TPPAN (taxe audiovisuelle)", "PER_UNIT", D("0.1000"), False, None, D("100")),
    ("TPPAN (taxe audiovisuelle)", "PER_UNIT", D("0.1500"), False, D("100"), D("200")),
    ("TPPAN (taxe audiovisuelle)", "PER_UNIT", D("0.2000"), False, D("200"), None),
]


def _water(price, fixed):
    return {"tranches": [("PROGRESSIVE", D("0"), None, D(price))], "charges": [_fixed_water(fixed)]}


def _fixed_water(amount):
    return ("Redevance fixe (location et entretien du compteur)", "FIXED_MONTHLY", D(amount), True, None, None)


def _fixed_sanitation(amount):
    return ("Redevance fixe d'assainissement", "FIXED_MONTHLY", D(amount), True, None, None)


SCHEDULES = [
    {
        "service": "ELECTRICITE",
        "category": "DOMESTIQUE",
        "name": "Électricité — usage domestique",
        "unit": "kWh",
        "prices_include_tax": True,
        "combination": "SWITCH",
        "switch_threshold": D("150"),
        "source": ELEC_SOURCE,
        "tranches": [
            ("PROGRESSIVE", D("0"), D("100"), D("0.9010")),
            ("PROGRESSIVE", D("100"), D("150"), D("1.0732")),
            ("SELECTIVE", D("150"), D("210"), D("1.0732")),
            ("SELECTIVE", D("210"), D("310"), D("1.1676")),
            ("SELECTIVE", D("310"), D("510"), D("1.3817")),
            ("SELECTIVE", D("510"), None, D("1.5958")),
        ],
        "charges": FIXED_ELEC + TPPAN,
    },
    {
        "service": "ELECTRICITE",
        "category": "PROFESSIONNEL",
        "name": "Électricité — professionnel basse tension",
        "unit": "kWh",
        "prices_include_tax": True,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": ELEC_PRO_SOURCE,
        "tranches": [
            ("PROGRESSIVE", D("0"), D("100"), D("1.3161")),
            ("PROGRESSIVE", D("100"), D("500"), D("1.4159")),
            ("PROGRESSIVE", D("500"), None, D("1.6149")),
        ],
        "charges": FIXED_ELEC + TPPAN,
    },
    {
        "service": "EAU",
        "category": "DOMESTIQUE",
        "name": "Eau potable — usage domestique (tranche sociale 0-6 m³)",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": WATER_SOURCE,
        "tranches": [
            ("PROGRESSIVE", D("0"), D("6"), D("2.3700")),
            ("PROGRESSIVE", D("6"), D("12"), D("7.3900")),
            ("PROGRESSIVE", D("12"), D("20"), D("7.3900")),
            ("PROGRESSIVE", D("20"), D("35"), D("10.9800")),
            ("PROGRESSIVE", D("35"), None, D("11.0300")),
        ],
        "charges": [_fixed_water("6.0000")],
    },
    {
        "service": "EAU",
        "category": "PROFESSIONNEL",
        "name": "Eau potable — usage professionnel (préférentiel)",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": WATER_SOURCE + " Usage préférentiel : 7,52 DH/m³, redevance fixe 10 DH/mois.",
        **_water("7.5200", "10.0000"),
    },
    {
        "service": "EAU",
        "category": "INDUSTRIEL",
        "name": "Eau potable — usage industriel",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": WATER_SOURCE + " Usage industriel : 6,98 DH/m³, redevance fixe 10 DH/mois.",
        **_water("6.9800", "10.0000"),
    },
    {
        "service": "EAU",
        "category": "ADMINISTRATION",
        "name": "Eau potable — administrations",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": WATER_SOURCE + " Administrations : 11,03 DH/m³, redevance fixe 10 DH/mois.",
        **_water("11.0300", "10.0000"),
    },
    {
        "service": "ASSAINISSEMENT",
        "category": "DOMESTIQUE",
        "name": "Assainissement — usage domestique",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": SANITATION_SOURCE,
        "tranches": [
            ("PROGRESSIVE", D("0"), D("6"), D("0.7500")),
            ("PROGRESSIVE", D("6"), D("20"), D("3.5100")),
            ("PROGRESSIVE", D("20"), None, D("4.7100")),
        ],
        "charges": [_fixed_sanitation("3.0000")],
    },
    {
        "service": "ASSAINISSEMENT",
        "category": "PROFESSIONNEL",
        "name": "Assainissement — usage professionnel (préférentiel)",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": SANITATION_SOURCE + " Usage préférentiel : 4,71 DH/m³, redevance fixe 12 DH/mois.",
        "tranches": [("PROGRESSIVE", D("0"), None, D("4.7100"))],
        "charges": [_fixed_sanitation("12.0000")],
    },
    {
        "service": "ASSAINISSEMENT",
        "category": "INDUSTRIEL",
        "name": "Assainissement — usage industriel",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": SANITATION_SOURCE + " Usage industriel : 4,71 DH/m³, redevance fixe 12 DH/mois.",
        "tranches": [("PROGRESSIVE", D("0"), None, D("4.7100"))],
        "charges": [_fixed_sanitation("12.0000")],
    },
    {
        "service": "ASSAINISSEMENT",
        "category": "ADMINISTRATION",
        "name": "Assainissement — administrations",
        "unit": "m³",
        "prices_include_tax": False,
        "combination": "PROGRESSIVE",
        "switch_threshold": None,
        "source": SANITATION_SOURCE + " Administrations : 4,21 DH/m³, redevance fixe 6 DH/mois.",
        "tranches": [("PROGRESSIVE", D("0"), None, D("4.2100"))],
        "charges": [_fixed_sanitation("6.0000")],
    },
]

LF2024 = "Loi de finances 2024 (CGI art. 91 et 99) ; note Lydec de janvier 2024"
VAT_RATES = [
    ("ELECTRICITE", "", date(2020, 1, 1), D("0.1400"), "CGI art. 99 (taux de 14 % jusqu'au 31/12/2023)"),
    ("ELECTRICITE", "", date(2024, 1, 1), D("0.1600"), LF2024 + " : 16 % en 2024"),
    ("ELECTRICITE", "", date(2025, 1, 1), D("0.1800"), LF2024 + " : 18 % en 2025"),
    ("ELECTRICITE", "", date(2026, 1, 1), D("0.2000"), LF2024 + " : 20 % à partir de 2026"),
    ("EAU", "", date(2020, 1, 1), D("0.0700"), "CGI art. 99 (7 % jusqu'au 31/12/2023)"),
    ("EAU", "", date(2024, 1, 1), D("0.1000"), LF2024 + " : 10 % pour les usages non domestiques"),
    ("EAU", "DOMESTIQUE", date(2024, 1, 1), D("0.0000"), LF2024 + " : eau à usage domestique exonérée"),
    ("ASSAINISSEMENT", "", date(2020, 1, 1), D("0.0700"), "CGI art. 99 (7 % jusqu'au 31/12/2023)"),
    ("ASSAINISSEMENT", "", date(2024, 1, 1), D("0.1000"), LF2024 + " : 10 % pour les usages non domestiques"),
    ("ASSAINISSEMENT", "DOMESTIQUE", date(2024, 1, 1), D("0.0000"), LF2024 + " : assainissement domestique exonéré"),
]


def seed(apps, schema_editor):
    TariffSchedule = apps.get_model("rak_billing", "TariffSchedule")
    TariffTranche = apps.get_model("rak_billing", "TariffTranche")
    TariffCharge = apps.get_model("rak_billing", "TariffCharge")
    VatRate = apps.get_model("rak_billing", "VatRate")
    for spec in SCHEDULES:
        if TariffSchedule.objects.filter(
            service=spec["service"], category=spec["category"], valid_from__lte=START
        ).exists():
            continue
        schedule = TariffSchedule.objects.create(
            service=spec["service"],
            category=spec["category"],
            name=spec["name"],
            unit=spec["unit"],
            valid_from=START,
            prices_include_tax=spec["prices_include_tax"],
            combination=spec["combination"],
            switch_threshold=spec["switch_threshold"],
            source=spec["source"],
        )
        TariffTranche.objects.bulk_create(
            TariffTranche(
                schedule=schedule, position=i, mode=mode, lower_bound=lower, upper_bound=upper, unit_price=price
            )
            for i, (mode, lower, upper, price) in enumerate(spec["tranches"], start=1)
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
    for spec in SCHEDULES:
        TariffSchedule.objects.filter(
            service=spec["service"], category=spec["category"], valid_from=START, name=spec["name"]
        ).delete()
    for service, category, valid_from, rate, _source in VAT_RATES:
        VatRate.objects.filter(service=service, category=category, valid_from=valid_from, rate=rate).delete()


class Migration(migrations.Migration):
    dependencies = [("rak_billing", "0003_meterreading_review")]

    operations = [migrations.RunPython(seed, unseed)]
