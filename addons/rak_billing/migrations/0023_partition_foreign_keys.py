"""The foreign keys of bill lines and ledger entries to their bill, partition to partition.

After 0022 they referenced the partitioned bill table: PostgreSQL 15 then checks each row through a
generic plan over every bill partition (each one locked, then pruned at run time) — measured on the
bench database during a run, the commit of a 5,000-bill chunk (its 20,000 line and 5,000 ledger
checks) took 6 s instead of about 1. A line or an entry of month M can only belong to a bill of
month M (same bounds on ``bill_id``), so each lines / ledger partition now references the bill
partition of its month (the legacy ones the legacy bill partition; the ledger's DEFAULT partition
holds bill entries from before the floor only, ``rak_billing_ledgerentry_legacy_range``): the same
guarantee, checked on one small table. ``rak_billing_partitions_ensure`` adds them for new months.
"""

from django.db import migrations

BILL_FKS = {
    "rak_billing_billline": "rak_billing_billline_bill_id_954cf75c_fk_rak_billing_bill_id",
    "rak_billing_ledgerentry": "rak_billing_ledgerentry_bill_id_cd1e7e38_fk_rak_billing_bill_id",
}

ENSURE = """
CREATE OR REPLACE FUNCTION rak_billing_partitions_ensure(first_month date, last_month date) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    m date := date_trunc('month', greatest(first_month,
        make_date((rak_billing_partition_floor() / 1000000000000)::int,
                  (rak_billing_partition_floor() / 10000000000 % 100)::int, 1)))::date;
    made integer := 0;
    lo bigint;
    hi bigint;
    suffix text;
BEGIN
    WHILE m <= last_month LOOP
        suffix := to_char(m, '"y"YYYY"m"MM');
        IF to_regclass('rak_billing_bill_' || suffix) IS NULL THEN
            PERFORM pg_advisory_xact_lock(7310, 0);  -- two sessions creating the same month
        END IF;
        IF to_regclass('rak_billing_bill_' || suffix) IS NULL THEN
            lo := rak_billing_month_key(m);
            hi := rak_billing_month_key((m + interval '1 month')::date);
            EXECUTE format('CREATE TABLE %I PARTITION OF rak_billing_bill FOR VALUES FROM (%s) TO (%s)',
                           'rak_billing_bill_' || suffix, lo, hi);
            EXECUTE format('CREATE UNIQUE INDEX %I ON %I (dossier_id, period_start) WHERE kind = ''CONSUMPTION''',
                           'rak_billing_bill_' || suffix || '_one_per_dossier_period', 'rak_billing_bill_' || suffix);
            EXECUTE format('CREATE TABLE %I PARTITION OF rak_billing_billline FOR VALUES FROM (%s) TO (%s)',
                           'rak_billing_billline_' || suffix, lo, hi);
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id)',
                           'rak_billing_billline_' || suffix, 'rak_billing_billline_' || suffix || '_pkey');
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (bill_id) REFERENCES %I (id) '
                           'DEFERRABLE INITIALLY DEFERRED',
                           'rak_billing_billline_' || suffix, 'rak_billing_billline_' || suffix || '_bill_fk',
                           'rak_billing_bill_' || suffix);
            EXECUTE format('CREATE TABLE %I PARTITION OF rak_billing_ledgerentry ('
                           'CONSTRAINT %I CHECK (payment_id IS NULL AND reversal_id IS NULL AND refund_id IS NULL '
                           'AND refund_cancellation_id IS NULL)) FOR VALUES FROM (%s) TO (%s)',
                           'rak_billing_ledgerentry_' || suffix, 'rak_billing_ledgerentry_' || suffix || '_bills_only',
                           lo, hi);
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id)',
                           'rak_billing_ledgerentry_' || suffix, 'rak_billing_ledgerentry_' || suffix || '_pkey');
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (bill_id) REFERENCES %I (id) '
                           'DEFERRABLE INITIALLY DEFERRED',
                           'rak_billing_ledgerentry_' || suffix, 'rak_billing_ledgerentry_' || suffix || '_bill_fk',
                           'rak_billing_bill_' || suffix);
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;
"""


def partition_foreign_keys(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, name in BILL_FKS.items():
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}"')
        cursor.execute(
            "SELECT substr(c.relname, length('rak_billing_bill_') + 1) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'rak_billing_bill'::regclass ORDER BY 1"
        )
        for (suffix,) in cursor.fetchall():
            for table in BILL_FKS:
                cursor.execute(
                    f"ALTER TABLE {table}_{suffix} ADD CONSTRAINT {table}_{suffix}_bill_fk FOREIGN KEY (bill_id) "
                    f"REFERENCES rak_billing_bill_{suffix} (id) DEFERRABLE INITIALLY DEFERRED NOT VALID"
                )
                cursor.execute(f"ALTER TABLE {table}_{suffix} VALIDATE CONSTRAINT {table}_{suffix}_bill_fk")
        cursor.execute(ENSURE)


class Migration(migrations.Migration):
    dependencies = [("rak_billing", "0022_partition_by_month")]

    operations = [migrations.RunPython(partition_foreign_keys, elidable=False)]
