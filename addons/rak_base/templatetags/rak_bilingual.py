"""Bilingual French / Arabic documents, as Moroccan bills are printed (issue 12):

    {% load rak_bilingual %}
    <th>{% bilingual %}{% translate "Code client" %}{% endbilingual %}</th>

renders what is inside twice, once in French and once in Arabic (``translation.override``), as
``<span class="bi"><span class="fr" lang="fr">Code client</span> <span class="ar" lang="ar"
dir="rtl">رقم الزبون</span></span>``: the page's CSS places French at the start (left) and Arabic at
the end (right), or one under the other with ``{% bilingual "stack" %}``; ``{% bilingual "pair" %}``
writes the two spans only, inside an element of the caller's (class ``bi``: two columns). The strings stay ordinary
``{% translate %}`` / ``{% blocktranslate %}`` strings, extracted and translated like any other.
"""

from __future__ import annotations

from django import template
from django.utils import translation
from django.utils.html import format_html

register = template.Library()


class BilingualNode(template.Node):
    def __init__(self, nodelist: template.NodeList, layout: str):
        self.nodelist = nodelist
        self.layout = layout

    def render(self, context) -> str:
        with translation.override("fr"):
            french = self.nodelist.render(context)
        with translation.override("ar"):
            arabic = self.nodelist.render(context)
        if self.layout == "pair":  # the two halves only: the caller's element is the .bi container
            return format_html(
                '<span class="fr" lang="fr">{}</span><span class="ar" lang="ar" dir="rtl">{}</span>', french, arabic
            )
        css = "bi stack" if self.layout == "stack" else "bi"
        return format_html(
            '<span class="{}"><span class="fr" lang="fr">{}</span> '
            '<span class="ar" lang="ar" dir="rtl">{}</span></span>',
            css,
            french,
            arabic,
        )


@register.tag
def bilingual(parser, token):
    bits = token.split_contents()
    if len(bits) > 2:
        raise template.TemplateSyntaxError('{% bilingual %} takes at most one argument: "stack" or "pair"')
    layout = bits[1].strip("\"'") if len(bits) == 2 else ""
    nodelist = parser.parse(("endbilingual",))
    parser.delete_first_token()
    return BilingualNode(nodelist, layout)
