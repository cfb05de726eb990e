"""The complaint categories of the issue, with their deadlines (data, edited afterwards by the
superviseur in the back office): used by migration 0014 and by the tests' database setup. The rows
are written in French (the source language); their wording lives in ``categories`` (customer-facing,
marked with ``gettext_noop``) and the portal shows it translated."""

from __future__ import annotations

from rak_requests.complaints.categories import CATEGORIES  # the wording, marked for translation there


def complaint_categories_seed(category_model=None) -> int:
    """Create the missing categories (existing ones are left as the superviseur edited them)."""
    if category_model is None:
        from rak_requests.complaint_models import ComplaintCategory as category_model  # noqa: N813
    created = 0
    for position, (code, name, help_text, sla, first, urgent, incident, service, about_bill) in enumerate(CATEGORIES):
        _, was_created = category_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "description": help_text,
                "sla_hours": sla,
                "first_answer_hours": first,
                "is_urgent": urgent,
                "is_incident": incident,
                "service": service,
                "about_bill": about_bill,
                "position": position,
            },
        )
        created += was_created
    return created
