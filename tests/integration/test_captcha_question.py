"""Quick-pay's captcha has an alternative a blind user can pass (issue 9 §2): « Je ne peux pas lire
l'image » offers a question written in words (« Combien font sept plus trois ? »), checked on the
server like the image (one use, same expiry); answered in digits it lets the customer through,
a wrong answer does not. flite's audio captcha was not chosen: Debian's flite speaks English only."""

from __future__ import annotations

import re

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse
from num2words import num2words

from tests.integration.test_form_accessibility import assert_descriptions_exist

pytestmark = pytest.mark.django_db

QUESTION = re.compile(
    r'<p class="captcha-question" id="id_captcha_question">Combien font (.+?) (plus|moins) (.+?) \?</p>'
)
WORDS = {num2words(n, lang="fr"): n for n in range(0, 41)}


def answer(html: str) -> str:
    match = QUESTION.search(html)
    assert match, "pas de question écrite"
    left, op, right = WORDS[match.group(1)], match.group(2), WORDS[match.group(3)]
    return str(left + right if op == "plus" else left - right)


def form_data(html: str, response: str) -> dict:
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', html).group(1)
    return {
        "code": "999999999",
        "email": "a@example.ma",
        "email_confirm": "a@example.ma",
        "captcha_0": key,
        "captcha_1": response,
        "card_type": "MOROCCAN",
        "verification": "question",
    }


def test_image_page_offers_the_written_question(client):
    html = client.get(reverse("portal:quickpay")).content.decode()
    assert 'href="/payer-mes-factures/?verification=question"' in html
    assert "Je ne peux pas lire l&#x27;image" in html or "Je ne peux pas lire l'image" in html
    assert not QUESTION.search(html)


def test_written_question_answered_in_digits_lets_the_customer_through(client):
    html = client.get(reverse("portal:quickpay"), {"verification": "question"}).content.decode()
    assert "<img" not in html.split('class="field captcha')[1].split("</div>")[0], "pas d'image en mode question"
    assert_descriptions_exist(html)
    assert re.search(r'aria-describedby="id_captcha_question[^"]*"', html), "la réponse doit être liée à la question"
    data = form_data(html, answer(html))
    response = client.post(reverse("portal:quickpay"), data)
    # the captcha passed: the customer is looked up (unknown code: the seed's neutral answer)
    assert "Réponse incorrecte" not in response.content.decode()
    assert "Aucune Facture à payer ou identifiants client inexistant" in response.content.decode()
    assert not CaptchaStore.objects.filter(hashkey=data["captcha_0"]).exists(), "une réponse ne sert qu'une fois"


def test_wrong_answer_to_the_written_question_is_refused_and_a_new_question_asked(client):
    html = client.get(reverse("portal:quickpay"), {"verification": "question"}).content.decode()
    wrong = str(int(answer(html)) + 1)
    again = client.post(reverse("portal:quickpay"), form_data(html, wrong)).content.decode()
    assert "Réponse incorrecte : une nouvelle question vous est posée." in again
    assert QUESTION.search(again), "la page renvoyée garde la question écrite"
