# Issue 11 (interventions, reading review back into the thread): indexes for the lookups of
# rak_requests.admin_interventions and rak_requests.complaints.actions. Raw SQL because they are
# partial / expression indexes on the lead's models (complaint_models.py): declaring them in the
# models' Meta is the lead's call; until then makemigrations ignores RunSQL, so no drift.
from django.db import migrations

INDEXES = [
    # the technical team's list: pending orders by planned date (and « en retard »), by district
    (
        "intervention_pending_planned",
        "CREATE INDEX IF NOT EXISTS intervention_pending_planned ON rak_requests_fieldintervention "
        "(planned_for) WHERE status = 'PENDING'",
    ),
    (
        "intervention_district",
        "CREATE INDEX IF NOT EXISTS intervention_district ON rak_requests_fieldintervention (district)",
    ),
    # the reviewer's decision on a reading finds the complaints that sent it (actions.on_reading_reviewed)
    (
        "complaintentry_action_reading",
        "CREATE INDEX IF NOT EXISTS complaintentry_action_reading ON rak_requests_complaintentry "
        "((data -> 'reading_id')) WHERE kind = 'ACTION'",
    ),
]


class Migration(migrations.Migration):
    dependencies = [("rak_requests", "0016_helpdesk")]

    operations = [migrations.RunSQL(sql, reverse_sql=f"DROP INDEX IF EXISTS {name}") for name, sql in INDEXES]
