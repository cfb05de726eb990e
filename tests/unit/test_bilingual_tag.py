"""{% bilingual %} (issue 12): what is inside rendered in French then in Arabic, whatever the active
language, Arabic marked lang="ar" dir="rtl" (Django's own catalogues translate « January »)."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation


def render(source: str) -> str:
    return Template("{% load i18n rak_bilingual %}" + source).render(Context({}))


def test_both_languages_side_by_side_or_stacked_or_as_a_pair():
    with translation.override("en"):
        html = render('{% bilingual %}{% translate "January" %}{% endbilingual %}')
        assert html == (
            '<span class="bi"><span class="fr" lang="fr">janvier</span> '
            '<span class="ar" lang="ar" dir="rtl">يناير</span></span>'
        )
        assert translation.get_language() == "en"  # the active language is given back
    assert render('{% bilingual "stack" %}{% translate "January" %}{% endbilingual %}').startswith(
        '<span class="bi stack">'
    )
    assert render('{% bilingual "pair" %}{% translate "January" %}{% endbilingual %}') == (
        '<span class="fr" lang="fr">janvier</span><span class="ar" lang="ar" dir="rtl">يناير</span>'
    )


def test_one_argument_at_most():
    with pytest.raises(TemplateSyntaxError):
        render('{% bilingual "a" "b" %}x{% endbilingual %}')
