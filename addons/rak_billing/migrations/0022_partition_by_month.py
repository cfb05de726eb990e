"""Bills, bill lines and ledger entries partitioned by month (see ``rak_billing.partitions``).

Done in place, without copying a row: each table is renamed and attached as the **legacy
partition** of a new partitioned table of the same name (a CHECK added first, so that attaching
does not scan), its indexes reused by the parent's. Foreign keys to bills are recreated on the
parent (the ones from other tables NOT VALID, then validated). Bill numbers are copied into
``rak_billing_billnumber``. Then the month partitions from the floor to 3 months ahead.

The floor (first partitioned month) is the month after the last consumption period billed, so
that every older consumption bill stays in the legacy partition (``bill_consumption_month``); on an
empty database (tests, a new site) it is 24 months ago, so that history is partitioned from the
start. Irreversible (a restore from backup goes back).
"""

import datetime

import django.db.models.deletion  # noqa: F401
import rak_billing.models
from django.db import migrations, models

BILL = "rak_billing_bill"
LINE = "rak_billing_billline"
LEDGER = "rak_billing_ledgerentry"
TABLES = (BILL, LINE, LEDGER)
FACTOR = 10**10
HISTORY_MONTHS_EMPTY = 24
AHEAD = 3

FUNCTIONS = """
CREATE FUNCTION rak_billing_month_key(day date) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (extract(year FROM day)::bigint * 100 + extract(month FROM day)::bigint) * 10000000000 $$;

CREATE SEQUENCE rak_billing_bill_serial;

CREATE FUNCTION rak_billing_bill_id(month date DEFAULT NULL) RETURNS bigint
    LANGUAGE sql VOLATILE
    AS $$ SELECT rak_billing_month_key(coalesce(month, current_date)) + nextval('rak_billing_bill_serial') $$;

CREATE FUNCTION rak_billing_partition_floor() RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT %(floor)s::bigint $$;

CREATE FUNCTION rak_billing_partitions_ensure(first_month date, last_month date) RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    m date := date_trunc('month', greatest(first_month,
        make_date((rak_billing_partition_floor() / 1000000000000)::int,
                  (rak_billing_partition_floor() / 10000000000 %% 100)::int, 1)))::date;
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
            EXECUTE format('CREATE TABLE %%I PARTITION OF rak_billing_bill FOR VALUES FROM (%%s) TO (%%s)',
                           'rak_billing_bill_' || suffix, lo, hi);
            EXECUTE format('CREATE UNIQUE INDEX %%I ON %%I (dossier_id, period_start) WHERE kind = ''CONSUMPTION''',
                           'rak_billing_bill_' || suffix || '_one_per_dossier_period', 'rak_billing_bill_' || suffix);
            EXECUTE format('CREATE TABLE %%I PARTITION OF rak_billing_billline FOR VALUES FROM (%%s) TO (%%s)',
                           'rak_billing_billline_' || suffix, lo, hi);
            EXECUTE format('ALTER TABLE %%I ADD CONSTRAINT %%I PRIMARY KEY (id)',
                           'rak_billing_billline_' || suffix, 'rak_billing_billline_' || suffix || '_pkey');
            EXECUTE format('CREATE TABLE %%I PARTITION OF rak_billing_ledgerentry ('
                           'CONSTRAINT %%I CHECK (payment_id IS NULL AND reversal_id IS NULL AND refund_id IS NULL '
                           'AND refund_cancellation_id IS NULL)) FOR VALUES FROM (%%s) TO (%%s)',
                           'rak_billing_ledgerentry_' || suffix, 'rak_billing_ledgerentry_' || suffix || '_bills_only',
                           lo, hi);
            EXECUTE format('ALTER TABLE %%I ADD CONSTRAINT %%I PRIMARY KEY (id)',
                           'rak_billing_ledgerentry_' || suffix, 'rak_billing_ledgerentry_' || suffix || '_pkey');
            made := made + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN made;
END $$;

CREATE FUNCTION rak_billing_bill_numbers_insert() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN
        INSERT INTO rak_billing_billnumber (number) SELECT number FROM new_bills;
        RETURN NULL;
    END $$;

CREATE FUNCTION rak_billing_bill_numbers_delete() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN
        DELETE FROM rak_billing_billnumber n USING old_bills o WHERE n.number = o.number;
        RETURN NULL;
    END $$;

CREATE FUNCTION rak_billing_bill_number_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN
        UPDATE rak_billing_billnumber SET number = NEW.number WHERE number = OLD.number;
        RETURN NULL;
    END $$;
"""

TRIGGERS = """
CREATE TRIGGER rak_billing_bill_numbers_insert AFTER INSERT ON rak_billing_bill
    REFERENCING NEW TABLE AS new_bills FOR EACH STATEMENT EXECUTE FUNCTION rak_billing_bill_numbers_insert();
CREATE TRIGGER rak_billing_bill_numbers_delete AFTER DELETE ON rak_billing_bill
    REFERENCING OLD TABLE AS old_bills FOR EACH STATEMENT EXECUTE FUNCTION rak_billing_bill_numbers_delete();
CREATE TRIGGER rak_billing_bill_number_update AFTER UPDATE OF number ON rak_billing_bill
    FOR EACH ROW WHEN (OLD.number IS DISTINCT FROM NEW.number) EXECUTE FUNCTION rak_billing_bill_number_update();
"""


def _month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _months_before(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _key(day: datetime.date) -> int:
    return (day.year * 100 + day.month) * FACTOR


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        _partition(cursor)


def _partition(cursor) -> None:
    def run(query, params=None):
        cursor.execute(query, params)

    def rows(query, params=()):
        cursor.execute(query, params)
        return cursor.fetchall()

    (max_id,) = rows(f"SELECT max(id) FROM {BILL}")[0]
    if max_id is not None and max_id >= FACTOR:
        raise RuntimeError(f"{BILL}: ids ≥ 10¹⁰ already, cannot carry a month")
    (last_period, today) = rows(
        f"SELECT max(period_start) FILTER (WHERE kind = 'CONSUMPTION'), current_date FROM {BILL}"
    )[0]
    this_month = today.replace(day=1)
    floor_month = (
        _month_after(last_period) if last_period is not None else _months_before(this_month, HISTORY_MONTHS_EMPTY)
    )
    floor = _key(floor_month)

    # everything the new parents take over, read before renaming (definitions name the old tables)
    indexes = {
        table: rows(
            "SELECT i.relname, pg_get_indexdef(i.oid), c.contype FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.contype IN ('p', 'u') "
            "AND c.conrelid = x.indrelid WHERE x.indrelid = %s::regclass ORDER BY i.relname",
            [table],
        )
        for table in TABLES
    }
    foreign = rows(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), confrelid::regclass::text "
        "FROM pg_constraint WHERE contype = 'f' AND (conrelid = ANY(%s::regclass[]) OR confrelid = %s::regclass) "
        "ORDER BY 1, 2",
        [list(TABLES), BILL],
    )

    run(FUNCTIONS % {"floor": floor})

    # 1. foreign keys to bills: they would follow the renamed table; recreated on the parent below
    for table, name, _definition, target in foreign:
        if target == BILL:
            run(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')

    # 2. the old tables become the legacy partitions: renamed, their identity dropped, their
    # indexes renamed (the parents' take their names), a CHECK so that attaching does not scan
    keep_local = {
        BILL: {"bill_one_per_dossier_period"},  # unique per partition (see bill_consumption_month)
        LINE: {f"{LINE}_pkey"},
        LEDGER: {f"{LEDGER}_pkey"},
    }
    parent_indexes: dict[str, list[tuple[str, str, str | None]]] = {}
    for table in TABLES:
        legacy = f"{table}_legacy"
        run(f'ALTER TABLE "{table}" RENAME TO "{legacy}"')
        run(f'ALTER TABLE "{legacy}" ALTER COLUMN id DROP IDENTITY IF EXISTS')
        parent_indexes[table] = []
        for name, definition, contype in indexes[table]:
            if table == BILL and name == "bill_number_unique":
                run(f'ALTER TABLE "{legacy}" DROP CONSTRAINT "{name}"')  # now rak_billing_billnumber
                continue
            if table == LEDGER and name.endswith("_id_key") and name != f"{LEDGER}_bill_id_key":
                continue  # payment, reversal, refund, cancellation: stay unique in the DEFAULT partition
            new_name = f"{legacy}_{name.removeprefix(table + '_')}"[:63]
            run(f'ALTER INDEX "{name}" RENAME TO "{new_name}"')
            if name not in keep_local[table]:
                parent_indexes[table].append((name, definition, contype))

    run(
        f"ALTER TABLE {BILL}_legacy ADD CONSTRAINT bill_consumption_month CHECK (kind <> 'CONSUMPTION' "
        f"OR period_start IS NULL OR (id >= {floor} AND id - id % {FACTOR} = rak_billing_month_key(period_start)) "
        f"OR (id < {floor} AND rak_billing_month_key(period_start) < {floor}))"
    )
    run(
        f"ALTER TABLE {LEDGER}_legacy ADD CONSTRAINT ledger_single_source CHECK (bill_id IS NULL OR "
        "(payment_id IS NULL AND reversal_id IS NULL AND refund_id IS NULL AND refund_cancellation_id IS NULL))"
    )

    # 3. the partitioned parents: same columns and CHECKs, new id defaults, the indexes and keys
    for table in TABLES:
        key = "id" if table == BILL else "bill_id"
        run(
            f'CREATE TABLE "{table}" (LIKE "{table}_legacy" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE ({key})'
        )
    run(f"ALTER TABLE {BILL} ALTER COLUMN id SET DEFAULT rak_billing_bill_id()")
    for table in (LINE, LEDGER):
        run(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
        run(f"SELECT setval('{table}_id_seq', coalesce((SELECT max(id) FROM {table}_legacy), 0) + 1, false)")
        run(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
    for table in TABLES:
        for name, definition, contype in parent_indexes[table]:
            columns = definition[definition.index(" USING ") :]
            if contype == "p":
                run(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" PRIMARY KEY {columns.split(" ", 3)[3]}')
            elif contype == "u":
                run(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" UNIQUE {columns.split(" ", 3)[3]}')
            else:
                unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
                run(f'CREATE {unique}INDEX "{name}" ON "{table}"{columns}')
    for table, name, definition, _target in foreign:
        if table in TABLES:
            run(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')

    # 4. attach: bills and lines below the floor; the ledger's old table is the DEFAULT partition
    # (entries without a bill, and the bills' entries from before), a CHECK keeps later bills out
    run(f"ALTER TABLE {BILL}_legacy ADD CONSTRAINT {BILL}_legacy_range CHECK (id < {floor})")
    run(f"ALTER TABLE {BILL} ATTACH PARTITION {BILL}_legacy FOR VALUES FROM (MINVALUE) TO ({floor})")
    run(f"ALTER TABLE {LINE}_legacy ADD CONSTRAINT {LINE}_legacy_range CHECK (bill_id < {floor})")
    run(f"ALTER TABLE {LINE} ATTACH PARTITION {LINE}_legacy FOR VALUES FROM (MINVALUE) TO ({floor})")
    run(
        f"ALTER TABLE {LEDGER}_legacy ADD CONSTRAINT {LEDGER}_legacy_range CHECK (bill_id IS NULL OR bill_id < {floor})"
    )
    run(f"ALTER TABLE {LEDGER} ATTACH PARTITION {LEDGER}_legacy DEFAULT")

    # 5. foreign keys of the other tables to the bills' parent
    for table, name, definition, target in foreign:
        if target == BILL and table not in TABLES:
            run(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition} NOT VALID')
            run(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{name}"')

    # 6. numbers, triggers, month partitions
    run(f"INSERT INTO rak_billing_billnumber (number) SELECT number FROM {BILL}_legacy")
    run(TRIGGERS)
    run("SELECT rak_billing_partitions_ensure(%s, %s)", [floor_month, _months_before(this_month, -AHEAD)])
    for table in TABLES:
        run(f"ANALYZE {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("rak_billing", "0021_bill_kind_instalment_check"),
    ]

    operations = [
        migrations.CreateModel(
            name="BillNumber",
            fields=[
                (
                    "number",
                    models.CharField(max_length=20, primary_key=True, serialize=False, verbose_name="n° facture"),
                ),
            ],
            options={
                "verbose_name": "numéro de facture attribué",
                "verbose_name_plural": "numéros de facture attribués",
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="bill",
                    name="id",
                    field=rak_billing.models.BillIdField(primary_key=True, serialize=False, verbose_name="ID"),
                ),
            ],
            database_operations=[migrations.RunPython(partition, elidable=False)],
        ),
    ]
