"""Messages built when a module is imported are still read in the language of the page that shows
them (issue 12): a lazy message must not freeze the language active at import time."""

from __future__ import annotations

import re

from django.utils import translation

ARABIC = re.compile(r"[\u0600-\u06FF]")


def test_the_wrong_photo_message_follows_the_page_language():
    from rak_billing.readings.services import PHOTO_WRONG_KIND

    with translation.override("fr"):
        french = str(PHOTO_WRONG_KIND)
    with translation.override("ar"):
        arabic = str(PHOTO_WRONG_KIND)
    with translation.override("en"):
        english = str(PHOTO_WRONG_KIND)
    assert "n'est pas une photo" in french and "JPEG" in french
    assert ARABIC.search(arabic) and "n'est pas" not in arabic
    assert "photo" in english.lower() and "n'est pas" not in english and " ou " not in english
