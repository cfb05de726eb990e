"""The payment order's money check is exact again: amount_total = amount_bills + fee_amount +
fee_vat, as 0001 created it. 0003 had loosened it to « within half a centime » because SQLite adds
decimals as floats; SQLite is gone, PostgreSQL's numeric is exact. A forward migration (not an edit
of 0003) because 0003 is already applied in existing databases; rows written under the loose check
satisfy the exact one (numeric(14,2) columns: a difference below half a centime is zero)."""

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rak_payment_cmi", "0006_network_import_file_archive"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="paymentorder",
            name="cmi_order_total_is_sum",
        ),
        migrations.AddConstraint(
            model_name="paymentorder",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "amount_total",
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("amount_bills"), "+", models.F("fee_amount")
                            ),
                            "+",
                            models.F("fee_vat"),
                        ),
                    )
                ),
                name="cmi_order_total_is_sum",
            ),
        ),
    ]
