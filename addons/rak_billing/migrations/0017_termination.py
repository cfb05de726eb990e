"""Issue 10 — résiliation: the accounts of a terminated dossier (``DossierClosing``: final reading,
final bill, deposit released once per dossier, balance)."""

from decimal import Decimal

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rak_billing", "0016_direct_debit"),
        ("rak_customer", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="DossierClosing",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "reference",
                    models.CharField(blank=True, max_length=20, verbose_name="n° de la demande de résiliation"),
                ),
                (
                    "deposit_amount",
                    models.DecimalField(
                        decimal_places=2, default=Decimal("0.00"), max_digits=14, verbose_name="dépôt de garantie"
                    ),
                ),
                (
                    "dues_amount",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        help_text=(
                            "Ce que les factures du dossier devaient encore, facture de clôture comprise, "
                            "avant le dépôt."
                        ),
                        max_digits=14,
                        verbose_name="factures du dossier restant dues",
                    ),
                ),
                (
                    "balance",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0.00"),
                        help_text="Factures dues moins dépôt : positif, le client est débiteur ; négatif, créditeur.",
                        max_digits=14,
                        verbose_name="solde de la résiliation",
                    ),
                ),
                ("end_date", models.DateField(blank=True, null=True, verbose_name="date de fin")),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="clôturé le")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="créé le")),
                (
                    "customer",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="rak_customer.customer",
                        verbose_name="client",
                    ),
                ),
                (
                    "deposit_note",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="rak_billing.bill",
                        verbose_name="restitution du dépôt de garantie",
                    ),
                ),
                (
                    "dossier",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="closing",
                        to="rak_customer.dossier",
                        verbose_name="dossier",
                    ),
                ),
                (
                    "final_bill",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="rak_billing.bill",
                        verbose_name="facture de clôture",
                    ),
                ),
                (
                    "final_reading",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="rak_billing.meterreading",
                        verbose_name="relevé final",
                    ),
                ),
            ],
            options={
                "verbose_name": "clôture de dossier",
                "verbose_name_plural": "clôtures de dossiers",
                "ordering": ["-closed_at", "-id"],
                "indexes": [models.Index(fields=["customer", "-closed_at"], name="closing_customer_recent")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("deposit_amount__gte", 0)), name="closing_deposit_positive"
                    )
                ],
            },
        ),
    ]
