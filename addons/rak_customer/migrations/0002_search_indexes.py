"""PostgreSQL indexes for the back-office name search: prefix match on UPPER(last/first name),
substring match on UPPER(company_name) through pg_trgm when the extension can be created."""

from django.db import DatabaseError, migrations, transaction

COLUMNS = ("last_name", "first_name")


def create(apps, schema_editor):
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_upper_prefix "
            f"ON rak_customer_customer (UPPER({column}) varchar_pattern_ops)"
        )
    try:
        with schema_editor.connection.cursor() as cursor, transaction.atomic():
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS customer_company_name_upper_trgm "
                "ON rak_customer_customer USING gin (UPPER(company_name) gin_trgm_ops)"
            )
    except DatabaseError:
        pass  # no right to create the extension: company search falls back to a scan


def drop(apps, schema_editor):
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_upper_prefix")
    schema_editor.execute("DROP INDEX IF EXISTS customer_company_name_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("rak_customer", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
