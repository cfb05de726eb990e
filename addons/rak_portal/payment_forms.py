"""Forms of the payment pages (seed 001): quick-pay identification, the card type, the
conditions, the advance amount. No form carries an amount of bills: the server computes them."""

from __future__ import annotations

from typing import cast

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rak_payment_cmi.models import PaymentOrder

CARD_TYPES = PaymentOrder.CardType.choices


class CaptchaInput(CaptchaTextInput):
    """The image (French alternative text) and the answer box; a new challenge at each rendering.

    ``question=True``: instead of the image, a question written in words (« Combien font sept
    plus trois ? »), for a customer who cannot read the image — a screen reader reads it. Stored
    and checked by django-simple-captcha exactly like the image (one use, same expiry)."""

    template_name = "rak_portal/pay/captcha_widget.html"

    def __init__(self, attrs=None, *, question: bool = False):
        super().__init__(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", **(attrs or {})},
            generator="rak_portal.captcha_questions.question_challenge" if question else None,
        )
        self.question = question

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        answer = context["widget"]["subwidgets"][1]["attrs"]
        described = [answer.get("aria-describedby") or f"{self.id_}_helptext"]
        if answer.get("aria-invalid") and f"{self.id_}_error" not in described[0]:
            described.append(f"{self.id_}_error")
        if self.question:
            from captcha.models import CaptchaStore

            from rak_portal.captcha_questions import question_text

            context["question"] = question_text(CaptchaStore.objects.get(hashkey=self._key).challenge)
            described.insert(0, f"{self.id_}_question")
            answer["inputmode"] = "numeric"
        answer["aria-describedby"] = " ".join(described)
        return context


class QuickPayForm(forms.Form):
    """« Identifiants du client » (seed 001 step 2)."""

    code = forms.CharField(
        label=_("Code Client"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text=_("Il figure sur votre facture."),
    )
    email = forms.EmailField(label=_("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    email_confirm = forms.EmailField(
        label=_("Confirmer votre email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    captcha = CaptchaField(
        label=_("Code de vérification"),
        widget=CaptchaInput(),
        help_text=_("Recopiez les caractères de l'image (je ne suis pas un robot)."),
        error_messages={
            "invalid": _("Code de vérification incorrect."),
            "required": _("Saisissez le code de vérification."),
        },
    )
    card_type = forms.ChoiceField(
        label=_("Type Carte Bancaire"),
        choices=CARD_TYPES,
        initial=PaymentOrder.CardType.MOROCCAN,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, question: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.question = question
        if question:
            captcha = self.fields["captcha"]
            captcha.widget = CaptchaInput(question=True)
            captcha.label = gettext("Réponse à la question (en chiffres)")
            captcha.help_text = gettext("Écrivez le résultat en chiffres (je ne suis pas un robot).")
            captcha.error_messages = {
                **captcha.error_messages,
                "invalid": gettext("Réponse incorrecte : une nouvelle question vous est posée."),
            }

    def clean(self):
        cleaned = super().clean()
        if cleaned is None:  # a clean() may return None: the form's cleaned_data stands (Django's rule)
            cleaned = self.cleaned_data
        email, confirm = cleaned.get("email"), cleaned.get("email_confirm")
        if email and confirm and email.strip().lower() != confirm.strip().lower():
            self.add_error("email_confirm", gettext("Les deux adresses email ne sont pas identiques."))
        return cleaned


class PortalPayForm(forms.Form):
    """The logged-in bill list's own fields (the quick-pay asked them on its first page)."""

    email = forms.EmailField(
        label=_("Email de confirmation du paiement"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    card_type = forms.ChoiceField(
        label=_("Type Carte Bancaire"),
        choices=CARD_TYPES,
        initial=PaymentOrder.CardType.MOROCCAN,
        widget=forms.RadioSelect,
    )


class ConditionsForm(forms.Form):
    conditions = forms.BooleanField(
        label=_("J'ai lu et j'accepte les conditions générales"),
        error_messages={
            "required": _(
                "Il faut cocher la mention « j'ai lu et j'accepte les conditions générales » avant de continuer."
            )
        },
    )


class AdvanceForm(forms.Form):
    """« Alimentation des avances sur consommation »: a dossier billed by advance, an amount."""

    dossier = forms.ChoiceField(label=_("Dossier"))
    amount = forms.CharField(
        label=_("Montant de l'avance (DH)"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email de confirmation du paiement"), max_length=254)
    card_type = forms.ChoiceField(
        label=_("Type Carte Bancaire"),
        choices=CARD_TYPES,
        initial=PaymentOrder.CardType.MOROCCAN,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, dossiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.dossiers = {d.number: d for d in dossiers}
        cast(forms.ChoiceField, self.fields["dossier"]).choices = [
            (d.number, f"{d.number} — {d.get_service_display()} — {d.premises}") for d in dossiers
        ]
