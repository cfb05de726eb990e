"""Gap-free named sequences under a row lock."""

from django.db import IntegrityError, transaction

from rak_base.models import Sequence


@transaction.atomic
def sequence_next(*, name: str, start: int = 1, count: int = 1) -> int:
    """Reserve ``count`` consecutive values of sequence ``name``; return the first."""
    seq = Sequence.objects.select_for_update().filter(name=name).first()
    if seq is None:
        try:
            with transaction.atomic():
                Sequence.objects.create(name=name, next_value=start)
        except IntegrityError:
            pass  # created concurrently
        seq = Sequence.objects.select_for_update().get(name=name)
    value = seq.next_value
    seq.next_value = value + count
    seq.save(update_fields=["next_value"])
    return value


@transaction.atomic
def sequence_ensure_at_least(*, name: str, value: int) -> None:
    """Move a sequence past values assigned in bulk (demo data, migrations)."""
    seq, _ = Sequence.objects.select_for_update().get_or_create(name=name, defaults={"next_value": value})
    if seq.next_value < value:
        seq.next_value = value
        seq.save(update_fields=["next_value"])
