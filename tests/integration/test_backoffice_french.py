"""The back office stays French (issue 12): no English left from the admin theme (django-unfold) or
Django on the pages a staff member opens — home, every list with its filters, add and change
forms, a history page, the password pages, the login page — whatever language the browser asks
(Accept-Language: ar) or the portal's language cookie says (rak_language=en).

The theme ships its interface in English only; locale/fr/LC_MESSAGES/django.po gives it French.
What is checked is what a person reads: the text nodes of the page (not scripts or styles) and the
attributes shown as text (title, placeholder, aria-label, alt, button values)."""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets, label_for_field
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.urls import reverse
from django.utils.text import capfirst

from rak_customer.models import Customer
from tests.factories import AgencyFactory, DossierFactory, customer_with_account, staff_in
from tests.integration.test_backoffice import changeform_data

User = get_user_model()

pytestmark = pytest.mark.django_db

# The theme's and Django's interface words, as they would show untranslated. Words that are also
# French (Actions, Date, Code, Message, Notification, Type, Description, Total...) are left out.
ENGLISH_UI = (
    "Access Log",
    "Attempted Access",
    "Failed access",
    "Add",
    "Add another",
    "Apply",
    "Apply Filters",
    "Can add",
    "Can change",
    "Can delete",
    "Can view",
    "Cancel",
    "Change",
    "Change history",
    "Change password",
    "Clear",
    "Clear all filters",
    "Close",
    "Collapse",
    "Dark",
    "Delete",
    "Edit",
    "Expand",
    "False",
    "Filter",
    "Filters",
    "Forgotten your password or username?",
    "General",
    "Go",
    "Go back",
    "Groups",
    "Hide",
    "historical",
    "History",
    "Home",
    "Light",
    "Loading",
    "Locked Out",
    "Log in",
    "Log out",
    "More actions",
    "Next",
    "No",
    "No results",
    "None",
    "Not set",
    "Password",
    "Previous",
    "Recent actions",
    "Recent searches",
    "Remove",
    "Request type",
    "Reset",
    "Reset filters",
    "result",
    "results",
    "Return to site",
    "Run",
    "Save",
    "Save and add another",
    "Save and continue editing",
    "Search",
    "Select",
    "Select action",
    "Select all",
    "Show",
    "Show all",
    "Show counts",
    "Submit",
    "System",
    "Task",
    "Tasks",
    "Toggle",
    "Toggle theme",
    "True",
    "Type to search",
    "Unknown",
    "User Agent",
    "Username",
    "Users",
    "View",
    "View site",
    "Welcome",
    "Welcome back to",
    "Yes",
)
ENGLISH_RE = re.compile(
    r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in sorted(ENGLISH_UI, key=len, reverse=True)) + r")(?![\w-])"
)
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
SKIPPED_ELEMENTS = {"script", "style", "template", "noscript", "code", "pre"}
SHOWN_AS_VALUE = {"submit", "button", "reset"}


class _Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if "material-symbols" in (attributes.get("class") or ""):
            # an icon drawn from its ligature name (« search », « close »): not a word anyone reads
            self._skipping.append(tag)
            return
        for name in SHOWN_ATTRIBUTES & attributes.keys():
            if attributes[name]:
                self.texts.append(attributes[name])
        if tag == "input" and (attributes.get("type") or "").lower() in SHOWN_AS_VALUE and attributes.get("value"):
            self.texts.append(attributes["value"])
        if tag in SKIPPED_ELEMENTS:
            self._skipping.append(tag)

    def handle_endtag(self, tag) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data) -> None:
        if not self._skipping and data.strip():
            self.texts.append(" ".join(data.split()))


def shown_texts(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.texts


def english_left(html: str) -> set[str]:
    return {text for text in shown_texts(html) if ENGLISH_RE.search(text)}


@pytest.fixture
def superuser(client):
    user = User.objects.create_superuser(username="direction", password="x-Direction-2026", email="dir@rak.ma")
    client.force_login(user)
    return user


@pytest.fixture
def data():
    customer, account = customer_with_account(email="client@example.ma")
    dossier = DossierFactory(customer=customer)
    agency = AgencyFactory()
    return {"customer": customer, "account": account, "dossier": dossier, "agency": agency}


def backoffice_pages(superuser, data) -> list[str]:
    """The pages a staff member goes through: home, every model's list, some add and change forms,
    a history page, a filtered list (filter sidebar open), the password pages."""
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    customer, dossier = data["customer"], data["dossier"]
    pages += [
        reverse("admin:rak_customer_customer_changelist") + f"?kind={Customer.Kind.PARTICULIER}&q=Youssef",
        reverse("admin:rak_customer_customer_change", args=[customer.pk]),
        reverse("admin:rak_customer_customer_history", args=[customer.pk]),
        reverse("admin:rak_customer_dossier_change", args=[dossier.pk]),
        reverse("admin:rak_customer_agency_change", args=[data["agency"].pk]),
        reverse("admin:rak_customer_agency_add"),
        reverse("admin:auth_group_add"),
        reverse("admin:rak_base_user_change", args=[superuser.pk]),
        reverse("admin:rak_base_user_history", args=[superuser.pk]),
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
    ]
    pages.append(reverse("admin:rak_base_user_add"))
    return pages


def _first_row(response) -> str | None:
    """The change page of a list's first row (seeded tariffs, request types, phases...)."""
    context = response.context
    if not context or "cl" not in context:
        return None
    cl = context["cl"]
    rows = list(cl.result_list[:1])
    return cl.url_for_result(rows[0]) if rows else None


def sample_pages(superuser, data) -> list[str]:
    """A page of each kind, for the language variants (the full tour runs once, in French)."""
    customer = data["customer"]
    return [
        reverse("admin:index"),
        reverse("admin:rak_customer_customer_changelist") + f"?kind={Customer.Kind.PARTICULIER}&q=Youssef",
        reverse("admin:rak_customer_customer_change", args=[customer.pk]),
        reverse("admin:rak_customer_customer_history", args=[customer.pk]),
        reverse("admin:rak_requests_phase_changelist"),
        reverse("admin:auth_group_add"),
        reverse("admin:password_change"),
    ]


def _visit_all(client, superuser, data, pages=None) -> dict[str, set[str]]:
    sample = pages is not None
    found: dict[str, set[str]] = {}
    dump = os.environ.get("RAK_BACKOFFICE_TEXT_DUMP")
    pages = list(pages) if pages is not None else backoffice_pages(superuser, data)
    seen = set()
    while pages:
        url = pages.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)  # a one-row list (the settings) opens its row
        assert response.status_code == 200, (url, response.status_code)
        first_row = _first_row(response)
        if first_row and "?" not in url:
            pages.append(first_row)
        html = response.content.decode()
        assert 'lang="fr"' in html[:500], url
        if dump:
            with open(dump, "a", encoding="utf-8") as out:
                for text in shown_texts(html):
                    out.write(f"{url}\t{text}\n")
        left = english_left(html)
        if sample:  # the screens of the interface only (message templates have Arabic wordings)
            left |= {text for text in shown_texts(html) if ARABIC_LETTER.search(text)}
        if left:
            found[url] = left
    return found


def test_the_back_office_shows_no_english_word(client, superuser, data):
    assert _visit_all(client, superuser, data) == {}


def test_the_back_office_stays_french_when_the_browser_asks_for_arabic(client, superuser, data):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ar"
    assert _visit_all(client, superuser, data, sample_pages(superuser, data)) == {}


def test_the_back_office_stays_french_with_the_portal_language_cookie_in_english(client, superuser, data):
    client.cookies["rak_language"] = "en"
    assert _visit_all(client, superuser, data, sample_pages(superuser, data)) == {}


def test_the_login_and_logout_pages_are_french(client, superuser):
    client.logout()
    client.cookies["rak_language"] = "en"
    login = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="ar")
    assert login.status_code == 200
    assert english_left(login.content.decode()) == set()

    client.force_login(superuser)
    logged_out = client.post(reverse("admin:logout"), HTTP_ACCEPT_LANGUAGE="ar")
    assert logged_out.status_code == 200
    assert "Vous êtes bien déconnecté du back office" in logged_out.content.decode()
    assert english_left(logged_out.content.decode()) == set()


def test_permissions_are_named_in_french(client, superuser):
    """Django stores its default permissions' names in English (« Can view client »)."""
    page = client.get(reverse("admin:auth_group_add")).content.decode()
    assert "Clientèle | client | Peut voir : client" in page or "| client | Peut voir : client" in page
    assert "Can view" not in page and "Can add" not in page
    assert "historique : " in page  # simple_history's « historical ... » tables
    assert "historical" not in page


def test_background_jobs_are_named_in_french(client, superuser):
    home = client.get(reverse("admin:index")).content.decode()
    assert "Tâches en arrière-plan" in home
    assert "Tasks Database Backend" not in home and "Task Results" not in home
    listing = client.get(reverse("admin:django_tasks_database_dbtaskresult_changelist")).content.decode()
    assert "Résultats de tâches" in listing or "résultats de tâches" in listing
    assert english_left(listing) == set()


# --- the customer's language of communication (Customer.language) --------------------------------


def test_the_customer_form_offers_the_language_of_communication(client, superuser, data):
    customer = data["customer"]
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    assert "language" in form.fields
    assert form.fields["language"].label == "Langue de communication"
    assert [label for _value, label in form.fields["language"].choices] == [
        "Non choisie (français)",
        "Français",
        "Arabe",
        "Anglais",
    ]
    assert "Langue de communication" in page.content.decode()

    posted = changeform_data(page)
    posted["language"] = ["ar"]
    response = client.post(url, posted)
    assert response.status_code == 302, response.content[:2000]
    customer.refresh_from_db()
    assert customer.language == "ar"


def test_the_front_desk_records_the_language_the_customer_asks_for(client, data):
    """The front desk (« accueil ») changes contacts and preferences, not the identity."""
    staff_in("accueil", client=client)
    customer = data["customer"]
    url = reverse("admin:rak_customer_customer_change", args=[customer.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    assert "language" in form.fields and "last_name" not in form.fields

    posted = changeform_data(page)
    posted["language"] = ["en"]
    response = client.post(url, posted)
    assert response.status_code == 302, response.content[:2000]
    customer.refresh_from_db()
    assert customer.language == "en"
    assert customer.last_name.startswith("Alaoui")


# --- fields declared without a French verbose_name ------------------------------------------------


def _english_auto_label(model, name: str, label) -> bool:
    """Django's label made from the column's name (« Received by »): the field has no verbose_name."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    default = field.name.replace("_", " ")
    return isinstance(field.verbose_name, str) and field.verbose_name == default and str(label) == capfirst(default)


def test_no_column_or_form_field_is_named_in_english(rf, superuser):
    """Every list column and form field (editable or read only) of our back-office screens has a
    French name, those without a verbose_name through rak_base.admin_labels.FieldLabelsMixin."""
    request = rf.get("/backoffice/")
    request.user = superuser
    english = []
    for model, model_admin in admin.site._registry.items():
        if not model.__module__.startswith("rak_"):
            continue
        for name in model_admin.get_list_display(request):
            if isinstance(name, str):
                label = label_for_field(name, model, model_admin)
                if _english_auto_label(model, name, label):
                    english.append((model._meta.label, "list", name))
        form = model_admin.get_form(request, None)
        labels = form._meta.labels or {}
        names = set(flatten_fieldsets(model_admin.get_fieldsets(request, None)))
        names |= set(model_admin.get_readonly_fields(request, None))
        for name in names:
            if not isinstance(name, str) or name in labels:  # named by the admin
                continue
            if name in form.base_fields:
                label = form.base_fields[name].label
            else:
                label = labels.get(name) or label_for_field(name, model, model_admin, form=form)
            if _english_auto_label(model, name, label):
                english.append((model._meta.label, "form", name))
    assert english == []
