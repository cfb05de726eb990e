"""Background tasks of the reports (django-tasks, database backend): what a back-office button asks
for but must not do inside the web request (minutes on a large database)."""

from django_tasks import task


@task(queue_name="default")
def monthly_report_send_now_task(user_id: int) -> int:
    """« Envoyer le rapport mensuel maintenant »: refresh, build, send; returns the recipients' count."""
    from rak_base import clock
    from rak_base.models import User
    from rak_reports.monthly import monthly_report_send_now

    record = monthly_report_send_now(now=clock.now(), by=User.objects.get(pk=user_id))
    return len(record.recipients)
