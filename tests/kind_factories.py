"""A request kind of the tests (« Demande d'essai »), served by the generic portal flow: a reason,
the customer's dossiers to choose, an ID document (required) and a photo (optional). Its type row,
phase and documents are created here (data), the kind registered for the test only."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django import forms

from rak_customer.models import Dossier
from rak_requests.engine import RequestError
from rak_requests.kinds.base import RequestData, RequestKind, kind_register, kind_unregister
from rak_requests.models import Phase, RequestType, RequiredDocument

TEST_CODE = "TEST_KIND"
TEST_SLUG = "demande-essai"
TEMPLATES_DIR = Path(__file__).parent / "templates"  # the kind's intro (tests/trial_intro.html)


@dataclass(frozen=True)
class TrialData(RequestData):
    dossiers: list = field(default_factory=list)
    reason: str = ""

    LABELS = {"dossiers": "Dossier(s) concerné(s)", "reason": "Motif"}

    def validate(self) -> None:
        if self.reason.strip().lower() == "refus":
            raise RequestError("Ce motif ne peut pas être accepté.")


class TrialForm(forms.Form):
    dossiers = forms.MultipleChoiceField(
        label="Dossier(s) concerné(s)", widget=forms.CheckboxSelectMultiple, required=False
    )
    reason = forms.CharField(label="Motif", max_length=200)

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = Dossier.objects.filter(customer=customer).values_list("number", flat=True)
        self.fields["dossiers"].choices = [(n, n) for n in numbers]


class TrialKind(RequestKind):
    code = TEST_CODE
    slug = TEST_SLUG
    title = "Demande d'essai"
    data_class = TrialData
    requires_otp = True
    requires_contact = True
    intro_template = "tests/trial_intro.html"
    list_title = "Toutes vos demandes d'essai"

    def customer_form(self, *, customer, data=None, files=None):
        return TrialForm(data, files, customer=customer)

    def data_from_form(self, *, customer, cleaned):
        return TrialData(dossiers=list(cleaned.get("dossiers") or []), reason=cleaned["reason"])

    def dossiers_from_data(self, *, customer, data):
        return Dossier.objects.filter(customer=customer, number__in=data.dossiers)


class TrialKindNoOtp(TrialKind):
    requires_otp = False


def trial_type() -> RequestType:
    request_type, _ = RequestType.objects.get_or_create(
        code=TEST_CODE, defaults={"name": "Demande d'essai", "number_prefix": "ES", "position": 90}
    )
    Phase.objects.get_or_create(
        request_type=request_type,
        code=Phase.Code.TRAITEMENT,
        defaults={"name": "Traitement", "position": 1, "sla_days": 5},
    )
    RequiredDocument.objects.get_or_create(
        request_type=request_type,
        code="cin",
        defaults={"label": "Pièce d'identité", "required": True, "allowed_kinds": "pdf,image,zip,rar", "position": 1},
    )
    RequiredDocument.objects.get_or_create(
        request_type=request_type,
        code="photo",
        defaults={"label": "Photo du compteur", "required": False, "allowed_kinds": "image", "position": 2},
    )
    return request_type


def with_test_templates(settings) -> None:
    """Add tests/templates to the template directories (pytest-django ``settings`` fixture)."""
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [TEMPLATES_DIR]}, *settings.TEMPLATES[1:]]


@contextmanager
def trial_kind_registered(kind_class=TrialKind):
    kind_unregister(TEST_CODE)
    kind = kind_register(kind_class())
    try:
        yield kind
    finally:
        kind_unregister(TEST_CODE)
