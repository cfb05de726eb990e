"""A billing run whose worker was killed mid-chunk continues by itself (bench/fault_run.py,
scenario a, issue 15). A kill -9 rolls the chunk back, and with it the enqueue of the next chunk;
the task row the dead worker had claimed stays RUNNING for ever. Before the fix the run stayed
« En cours » until somebody pressed « Reprendre »; the scheduler job ``billing.runs_recover`` now
queues the next chunk again, and a chunk task holds the run's chunk lock so that a duplicate gives
way while a chunk is being billed."""

from __future__ import annotations

import datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import connection
from django.db.models import Count
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from rak_base import clock, scheduler
from rak_base.models import ScheduledJob
from rak_billing import billing
from rak_billing.billing import billing_run_create
from rak_billing.models import Bill, BillingRun, LedgerEntry, MeterReading
from rak_billing.tasks import billing_run_chunk_task
from rak_customer.models import Service
from tests.factories import DossierFactory, MeterFactory

pytestmark = pytest.mark.django_db

FEB = datetime.date(2026, 2, 1)


def billable(count: int) -> list:
    dossiers = []
    for _ in range(count):
        meter = MeterFactory(service=Service.ELECTRICITE, caliber="10 A")
        dossier = DossierFactory(service=Service.ELECTRICITE, meter=meter)
        for day, index in ((datetime.date(2026, 1, 20), 100), (datetime.date(2026, 2, 20), 160)):
            MeterReading.objects.create(
                dossier=dossier,
                meter=meter,
                reading_date=day,
                index=Decimal(index),
                previous_index=Decimal(100) if index == 160 else None,
                consumption=Decimal(60) if index == 160 else None,
                source=MeterReading.Source.AGENT,
                status=MeterReading.Status.ACCEPTED,
            )
        dossiers.append(dossier)
    return dossiers


def queued_run() -> BillingRun:
    """A run created as the back office creates it: its first chunk queued for the worker."""
    return billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18)
    )


def chunk_tasks(run: BillingRun):
    return DBTaskResult.objects.filter(task_path=billing_run_chunk_task.module_path, args_kwargs__args=[run.pk])


def worker_killed_during_next_chunk(run: BillingRun) -> None:
    """The first chunk billed by a worker (its task ran and queued the next one); the next one
    claimed by a worker that is then killed: its transaction rolled back, its task row RUNNING."""
    first = chunk_tasks(run).get(status=TaskResultStatus.READY)
    billing_run_chunk_task.call(run.pk)
    first.status = TaskResultStatus.SUCCESSFUL
    first.save(update_fields=["status"])
    chunk_tasks(run).filter(status=TaskResultStatus.READY).update(
        status=TaskResultStatus.RUNNING, started_at=clock.now(), worker_ids=["killed-worker"]
    )


def test_a_run_whose_worker_was_killed_mid_chunk_is_finished_by_the_recovery_job(run_worker, monkeypatch):
    monkeypatch.setattr(billing, "CHUNK_SIZE", 2)
    dossiers = billable(5)
    run = queued_run()
    worker_killed_during_next_chunk(run)
    run.refresh_from_db()
    assert run.status == BillingRun.Status.RUNNING and run.bills_created == 2

    run_worker()  # a worker restarted: nothing is queued for this run any more
    run.refresh_from_db()
    assert run.status == BillingRun.Status.RUNNING and run.bills_created == 2

    # the scheduler's job, as a restarted worker's scheduler thread runs it
    now = clock.now()
    scheduler.jobs_sync(now=now)
    ScheduledJob.objects.exclude(name="billing.runs_recover").update(enabled=False)
    assert scheduler.jobs_run_due(now=now, worker="test") == ["billing.runs_recover"]
    run_worker()

    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE
    assert run.bills_created == 5 and run.dossiers_total == 5
    bills = Bill.objects.filter(period_start=FEB, kind=Bill.Kind.CONSUMPTION)
    assert set(bills.values_list("dossier_id", flat=True)) == {d.pk for d in dossiers}
    assert not bills.values("dossier_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert LedgerEntry.objects.filter(bill__in=bills).count() == 5
    numbers = sorted(int(n.split("-")[1]) for n in bills.values_list("number", flat=True))
    assert numbers == list(range(numbers[0], numbers[0] + 5))  # gap-free across the killed chunk
    assert ScheduledJob.objects.get(name="billing.runs_recover").last_result == "1 campagne(s) relancée(s)"


def test_the_recovery_leaves_alone_a_run_whose_next_chunk_waits_or_is_being_billed(monkeypatch):
    from rak_billing.billing import billing_runs_recover

    monkeypatch.setattr(billing, "CHUNK_SIZE", 2)
    billable(3)
    run = queued_run()
    assert billing_runs_recover(now=clock.now()) == 0  # its first chunk waits for a worker
    assert chunk_tasks(run).count() == 1

    chunk_tasks(run).update(status=TaskResultStatus.RUNNING)  # claimed by a live worker...
    settings = connection.get_connection_params()
    with psycopg.connect(**settings, autocommit=True) as other:  # ...that is billing the chunk
        other.execute("SELECT pg_advisory_lock(%s, %s)", [billing.RUN_CHUNK_LOCK, run.pk])
        assert billing_runs_recover(now=clock.now()) == 0
        assert chunk_tasks(run).count() == 1
        # a duplicate task of the run gives way while the chunk is being billed
        assert billing_run_chunk_task.call(run.pk) == "BUSY"
        assert not Bill.objects.exists()
    assert billing_runs_recover(now=clock.now()) == 1  # the lock is gone and nothing waits: re-queued
    assert chunk_tasks(run).filter(status=TaskResultStatus.READY).count() == 1


def test_a_run_billed_in_process_is_not_taken_over_by_the_worker():
    from rak_billing.billing import billing_runs_recover

    billable(1)
    run = billing_run_create(
        period_start=FEB, issue_date=datetime.date(2026, 3, 3), due_date=datetime.date(2026, 3, 18), enqueue=False
    )
    assert billing_runs_recover(now=clock.now()) == 0
    assert not chunk_tasks(run).exists()


# --- the finalisation: « votre facture est disponible » ----------------------------------------------


def finalize_tasks(run: BillingRun):
    from rak_billing.tasks import billing_run_finalize_task

    return DBTaskResult.objects.filter(task_path=billing_run_finalize_task.module_path, args_kwargs__args=[run.pk])


def finished_by_the_worker_then_killed_in_its_finalisation(run: BillingRun, *, minutes_ago: int) -> None:
    """Every chunk billed by a worker (the task rows say so), then the finalisation task claimed by a
    worker killed before its notices were committed: RUNNING for ever, no notice."""
    while chunk_tasks(run).filter(status=TaskResultStatus.READY).exists():
        task = chunk_tasks(run).filter(status=TaskResultStatus.READY).first()
        billing_run_chunk_task.call(run.pk)
        DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.SUCCESSFUL)
    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE
    finalize_tasks(run).update(
        status=TaskResultStatus.RUNNING,
        started_at=clock.now() - datetime.timedelta(minutes=minutes_ago),
        worker_ids=["killed-worker"],
    )


def test_a_finalisation_killed_by_a_worker_crash_is_queued_again_and_customers_are_told(run_worker, monkeypatch):
    from rak_base.models import Message
    from rak_billing.billing import billing_runs_recover
    from rak_billing.notifications import notification_kind
    from tests.factories import PhoneFactory

    monkeypatch.setattr(billing, "CHUNK_SIZE", 2)
    dossiers = billable(3)
    for number, dossier in enumerate(dossiers):
        PhoneFactory(customer=dossier.customer, value=f"+21266100{number:04d}")
    run = queued_run()
    finished_by_the_worker_then_killed_in_its_finalisation(run, minutes_ago=1)
    notices = Message.objects.filter(kind=notification_kind(run.pk))

    assert billing_runs_recover(now=clock.now()) == 0  # a finalisation started a minute ago may be alive
    finalize_tasks(run).update(started_at=clock.now() - datetime.timedelta(minutes=20))
    assert billing_runs_recover(now=clock.now()) == 1  # before: never queued again, nobody told
    assert billing_runs_recover(now=clock.now()) == 0  # it waits for a worker now
    run_worker()
    assert notices.filter(channel=Message.Channel.SMS).count() == 3
    assert billing_runs_recover(now=clock.now()) == 0  # notified: done with it


def test_a_finalisation_that_succeeded_with_nobody_to_notify_is_not_run_again(run_worker, monkeypatch):
    from rak_billing.billing import billing_runs_recover

    monkeypatch.setattr(billing, "CHUNK_SIZE", 2)
    billable(1)  # no phone, no e-mail, no portal account: no notice
    run = queued_run()
    run_worker()
    run.refresh_from_db()
    assert run.status == BillingRun.Status.DONE
    assert finalize_tasks(run).filter(status=TaskResultStatus.SUCCESSFUL).count() == 1
    assert billing_runs_recover(now=clock.now()) == 0
