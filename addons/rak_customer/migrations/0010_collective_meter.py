"""Issue 10 — compteurs collectifs: the tariff category « Compteur collectif » (COLLECTIF) that an
accepted « Demande de bénéficier du système tarification des compteurs collectifs » gives a dossier
(``rak_customer.dossiers.dossier_tariff_category_set``)."""

from django.db import migrations, models

CATEGORIES = [
    ("DOMESTIQUE", "Domestique"),
    ("PROFESSIONNEL", "Professionnel / commercial"),
    ("INDUSTRIEL", "Industriel"),
    ("ADMINISTRATION", "Administration"),
    ("BORNE_FONTAINE", "Borne-fontaine"),
    ("COLLECTIF", "Compteur collectif"),
]


class Migration(migrations.Migration):
    dependencies = [("rak_customer", "0009_termination")]

    operations = [
        migrations.AlterField(
            model_name="dossier",
            name="tariff_category",
            field=models.CharField(
                choices=CATEGORIES, default="DOMESTIQUE", max_length=16, verbose_name="catégorie tarifaire"
            ),
        ),
        migrations.AlterField(
            model_name="historicaldossier",
            name="tariff_category",
            field=models.CharField(
                choices=CATEGORIES, default="DOMESTIQUE", max_length=16, verbose_name="catégorie tarifaire"
            ),
        ),
    ]
