"""Issue 10 — remboursement: refunds (« Demande de remboursement »): ``Refund``, its cancellation
(a reversing entry, with a reason), the credit each one paid out (``RefundAllocation``), and the
ledger's REFUND / REFUND_CANCEL entries (kind widened to 16 characters, ``ledger_kind_valid`` and
``ledger_sign`` updated)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rak_base", "0006_message_event"),
        ("rak_billing", "0014_vat_rate_online_fee"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Refund",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="montant")),
                (
                    "method",
                    models.CharField(
                        choices=[
                            ("VIREMENT", "Virement bancaire"),
                            ("CHEQUE", "Chèque"),
                            ("ESPECES", "Espèces en agence"),
                        ],
                        max_length=10,
                        verbose_name="mode de versement",
                    ),
                ),
                (
                    "rib",
                    models.CharField(
                        blank=True, help_text="Virement : 24 chiffres.", max_length=24, verbose_name="RIB du client"
                    ),
                ),
                ("bank_name", models.CharField(blank=True, max_length=80, verbose_name="banque")),
                (
                    "reference",
                    models.CharField(
                        blank=True,
                        help_text="N° de l'ordre de virement, du chèque ou du bon de caisse.",
                        max_length=64,
                        verbose_name="référence",
                    ),
                ),
                (
                    "external_id",
                    models.CharField(
                        blank=True,
                        help_text="Le même identifiant enregistré deux fois ne paie qu'une fois.",
                        max_length=120,
                        null=True,
                        unique=True,
                        verbose_name="identifiant externe",
                    ),
                ),
                ("request_ref", models.CharField(blank=True, max_length=40, verbose_name="n° de la demande")),
                ("paid_at", models.DateTimeField(verbose_name="remboursé le")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="enregistré le")),
            ],
            options={
                "verbose_name": "remboursement",
                "verbose_name_plural": "remboursements",
                "ordering": ["-paid_at", "-id"],
                "permissions": [("cancel_refund", "Peut annuler un remboursement (avec motif)")],
            },
        ),
        migrations.CreateModel(
            name="RefundAllocation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("amount", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="montant")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "origine d'un remboursement",
                "verbose_name_plural": "origines des remboursements",
            },
        ),
        migrations.CreateModel(
            name="RefundCancellation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("reason", models.TextField(verbose_name="motif")),
                ("cancelled_at", models.DateTimeField(verbose_name="annulé le")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="enregistré le")),
            ],
            options={
                "verbose_name": "annulation de remboursement",
                "verbose_name_plural": "annulations de remboursements",
                "ordering": ["-cancelled_at"],
            },
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_kind_valid",
        ),
        migrations.RemoveConstraint(
            model_name="ledgerentry",
            name="ledger_sign",
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("BILL", "Facture"),
                    ("PAYMENT", "Paiement"),
                    ("CREDIT", "Avoir"),
                    ("REVERSAL", "Annulation de paiement"),
                    ("REFUND", "Remboursement"),
                    ("REFUND_CANCEL", "Annulation de remboursement"),
                ],
                max_length=16,
                verbose_name="type",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refunds",
                to="rak_customer.customer",
                verbose_name="client",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="receipt",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="rak_base.document",
                verbose_name="reçu (PDF)",
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="recorded_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="enregistré par",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="refund",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entry",
                to="rak_billing.refund",
            ),
        ),
        migrations.AddField(
            model_name="refundallocation",
            name="credit_note",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refund_allocations",
                to="rak_billing.bill",
            ),
        ),
        migrations.AddField(
            model_name="refundallocation",
            name="payment",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refund_allocations",
                to="rak_billing.payment",
            ),
        ),
        migrations.AddField(
            model_name="refundallocation",
            name="refund",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="allocations", to="rak_billing.refund"
            ),
        ),
        migrations.AddField(
            model_name="refundcancellation",
            name="cancelled_by",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="annulé par",
            ),
        ),
        migrations.AddField(
            model_name="refundcancellation",
            name="refund",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="cancellation",
                to="rak_billing.refund",
                verbose_name="remboursement",
            ),
        ),
        migrations.AddField(
            model_name="refundallocation",
            name="cancellation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="allocations",
                to="rak_billing.refundcancellation",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="refund_cancellation",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger_entry",
                to="rak_billing.refundcancellation",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["BILL", "PAYMENT", "CREDIT", "REVERSAL", "REFUND", "REFUND_CANCEL"])),
                name="ledger_kind_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ["BILL", "REVERSAL"]), ("amount__gte", 0)),
                    models.Q(("kind__in", ["PAYMENT", "CREDIT"]), ("amount__lte", 0)),
                    models.Q(("kind", "REFUND"), ("amount__gt", 0), ("refund__isnull", False)),
                    models.Q(("kind", "REFUND_CANCEL"), ("amount__lt", 0), ("refund_cancellation__isnull", False)),
                    _connector="OR",
                ),
                name="ledger_sign",
            ),
        ),
        migrations.AddIndex(
            model_name="refund",
            index=models.Index(fields=["customer", "-paid_at"], name="refund_customer_recent"),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(condition=models.Q(("amount__gt", 0)), name="refund_amount_positive"),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(("method__in", ["VIREMENT", "CHEQUE", "ESPECES"])), name="refund_method_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("method", "VIREMENT"), _negated=True), ("rib__regex", "^[0-9]{24}$"), _connector="OR"
                ),
                name="refund_rib",
            ),
        ),
        migrations.AddConstraint(
            model_name="refundcancellation",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True), name="refund_cancellation_reason"
            ),
        ),
        migrations.AddConstraint(
            model_name="refundallocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("amount__gt", 0), ("cancellation__isnull", True)),
                    models.Q(("amount__lt", 0), ("cancellation__isnull", False)),
                    _connector="OR",
                ),
                name="refund_allocation_sign",
            ),
        ),
        migrations.AddConstraint(
            model_name="refundallocation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("credit_note__isnull", True), ("payment__isnull", False)),
                    models.Q(("credit_note__isnull", False), ("payment__isnull", True)),
                    _connector="OR",
                ),
                name="refund_allocation_one_source",
            ),
        ),
    ]
