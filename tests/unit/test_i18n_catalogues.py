"""The translation gate of CI (issue 12): a customer-facing string that gettext does not wrap, or a
msgid the Arabic or English catalogue lacks, leaves untranslated, marks fuzzy, translates with
other placeholders, or whose compiled .mo is stale, fails the suite — with the list to fix.

And the checker itself: it must see what it is meant to see (templates, attributes, Python, JS)
and leave alone what it must (translated blocks, comments, docstrings, log lines, opt-outs)."""

from __future__ import annotations

import polib
import pytest

from rak_base import i18n_tools

needs_xgettext = pytest.mark.skipif(
    not i18n_tools.xgettext_available(), reason="GNU gettext (xgettext) absent: bin/test installs it as root"
)


def test_no_customer_facing_string_is_left_unmarked():
    problems = i18n_tools.unmarked()
    assert not problems, "strings customers read without gettext:\n" + "\n".join(map(str, problems))


@needs_xgettext
def test_arabic_and_english_catalogues_are_complete_and_compiled():
    problems = i18n_tools.catalogue_problems()
    assert not problems, "fix with `manage.py i18n update` and translate:\n" + "\n".join(map(str, problems[:200]))


def test_the_catalogues_declare_their_plural_forms():
    for language, forms in i18n_tools.PLURAL_FORMS.items():
        po = polib.pofile(str(i18n_tools.catalogue_path(language)))
        assert po.metadata["Plural-Forms"] == forms
        assert po.metadata["Language"] == language


# --- the checker ------------------------------------------------------------------------------


def test_template_text_and_attributes_outside_translate_are_reported(tmp_path):
    path = tmp_path / "x.html"
    path.write_text(
        """{% load i18n %}<h1>Mes factures</h1>
<p>{% translate "Déjà traduit" %}</p>
<img src="x.png" alt="Logo de la régie">
<input type="submit" value="Valider">
<a href="#" title="{% translate 'Aide' %}">{{ user.name }}</a>
{% blocktranslate trimmed with n=count %}Vous avez {{ n }} factures{% endblocktranslate %}
{% comment %}Un commentaire en français{% endcomment %}
<script>var x = 1;</script><span>RAK</span> <span>12 kWh</span>
{% block body_class %}home with-sidebar{% endblock %}""",
        encoding="utf-8",
    )
    found = [(p.line, p.text) for p in i18n_tools.unmarked_in_template(path)]
    assert found == [(1, "Mes factures"), (3, "Logo de la régie"), (4, "Valider")]


def test_python_prose_outside_gettext_is_reported_docstrings_logs_and_opt_outs_are_not(tmp_path):
    path = tmp_path / "module.py"
    path.write_text(
        '''"""Un docstring en français."""
import logging
from django.utils.translation import gettext as _, gettext_lazy

logger = logging.getLogger(__name__)
LABEL = gettext_lazy("Votre facture est prête")
WRONG = "Votre facture est prête"


def f(n):
    logger.info("la facture %s est prête", n)
    if n < 0:
        raise ValueError("montant négatif pour un développeur")
    key = "clé de la table interne"  # i18n: not for customers
    messages.error(request, "Cochez au moins une facture à payer.")
    return _("Facture %(n)s") % {"n": n}, f"Montant de la facture {n}"
''',
        encoding="utf-8",
    )
    found = [(p.line, p.text) for p in i18n_tools.unmarked_in_python(path)]
    assert found == [
        (7, "Votre facture est prête"),
        (15, "Cochez au moins une facture à payer."),
        (16, "Montant de la facture"),
    ]


def test_french_in_scripts_is_reported(tmp_path):
    path = tmp_path / "probe.js"
    path.write_text(
        "// Un commentaire en français\nel.textContent = 'Paiement en cours de la facture';\n"
        "el.textContent = el.dataset.label;\n",
        encoding="utf-8",
    )
    found = [(p.line, p.text) for p in i18n_tools.unmarked_in_script(path)]
    assert found == [(2, "Paiement en cours de la facture")]


def test_backoffice_files_are_not_customer_facing():
    files = {i18n_tools._relative(p) for p in i18n_tools.customer_facing_files()}
    assert "rak_portal/templates/rak_portal/base.html" in files
    assert "rak_billing/templates/rak_billing/pdf/bill.html" in files
    assert not any("/migrations/" in f or "/templates/admin/" in f or f.startswith("rak_cmi_sandbox") for f in files)
    assert "rak_customer/admin.py" not in files


def test_merge_keeps_translations_and_gives_arabic_plurals_six_forms():
    pot = polib.POFile()
    pot.append(polib.POEntry(msgid="Facture"))
    pot.append(polib.POEntry(msgid="%(n)s facture", msgid_plural="%(n)s factures", flags=["python-format"]))
    pot.append(polib.POEntry(msgid="Nouveau"))
    source = polib.POFile()
    source.append(polib.POEntry(msgid="Facture", msgstr="فاتورة"))
    source.append(polib.POEntry(msgid="Nouveau", msgstr="جديد", flags=["fuzzy"]))
    po = i18n_tools.merge(pot, "ar", [source])
    assert po.find("Facture").msgstr == "فاتورة"
    assert po.find("Nouveau").msgstr == ""  # a fuzzy translation is not a translation
    assert sorted(po.find("%(n)s facture").msgstr_plural) == [0, 1, 2, 3, 4, 5]


def test_a_translation_with_other_placeholders_is_a_problem():
    entry = polib.POEntry(msgid="Facture %(number)s du %(date)s", msgstr="Bill %(numero)s of %(date)s")
    assert [p.kind for p in i18n_tools._placeholder_problems("en", entry)] == ["placeholders"]
    entry.msgstr = "Bill %(number)s of %(date)s"
    assert list(i18n_tools._placeholder_problems("en", entry)) == []


def test_the_french_overrides_are_compiled():
    """locale/fr holds the back office theme's French and a few overrides of Django's own French
    (« janv. », « févr. »): its .mo must say what its .po says."""
    po = polib.pofile(str(i18n_tools.catalogue_path("fr")))
    mo = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(i18n_tools.catalogue_path("fr").with_suffix(".mo")))}
    stale = [
        e.msgid for e in po.translated_entries() if not e.msgid_plural and mo.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert not stale, f"run msgfmt -o locale/fr/LC_MESSAGES/django.mo locale/fr/LC_MESSAGES/django.po: {stale[:10]}"
    assert mo[("abbrev. month", "Jan.")] == "janv."
