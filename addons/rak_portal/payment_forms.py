"""Forms of the payment pages (seed 001): quick-pay identification, the card type, the
conditions, the advance amount. No form carries an amount of bills: the server computes them."""

from __future__ import annotations

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms

from rak_payment_cmi.models import PaymentOrder

CARD_TYPES = PaymentOrder.CardType.choices


class CaptchaInput(CaptchaTextInput):
    """The image (French alternative text) and the answer box; a new challenge at each rendering."""

    template_name = "rak_portal/pay/captcha_widget.html"

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", **(attrs or {})})


class QuickPayForm(forms.Form):
    """« Identifiants du client » (seed 001 step 2)."""

    code = forms.CharField(
        label="Code Client",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text="Il figure sur votre facture.",
    )
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    email_confirm = forms.EmailField(
        label="Confirmer votre email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    captcha = CaptchaField(
        label="Code de vérification",
        widget=CaptchaInput(),
        help_text="Recopiez les caractères de l'image (je ne suis pas un robot).",
        error_messages={"invalid": "Code de vérification incorrect.", "required": "Saisissez le code de vérification."},
    )
    card_type = forms.ChoiceField(
        label="Type Carte Bancaire",
        choices=CARD_TYPES,
        initial=PaymentOrder.CardType.MOROCCAN,
        widget=forms.RadioSelect,
    )

    def clean(self):
        cleaned = super().clean()
        email, confirm = cleaned.get("email"), cleaned.get("email_confirm")
        if email and confirm and email.strip().lower() != confirm.strip().lower():
            self.add_error("email_confirm", "Les deux adresses email ne sont pas identiques.")
        return cleaned


class PortalPayForm(forms.Form):
    """The logged-in bill list's own fields (the quick-pay asked them on its first page)."""

    email = forms.EmailField(
        label="Email de confirmation du paiement",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    card_type = forms.ChoiceField(
        label="Type Carte Bancaire",
        choices=CARD_TYPES,
        initial=PaymentOrder.CardType.MOROCCAN,
        widget=forms.RadioSelect,
    )


class ConditionsForm(forms.Form):
    conditions = forms.BooleanField(
        label="J'ai lu et j'accepte les conditions générales",
        error_messages={
            "required": (
                "Il faut cocher la mention « j'ai lu et j'accepte les conditions générales » avant de continuer."
            )
        },
    )


class AdvanceForm(forms.Form):
    """« Alimentation des avances sur consommation »: a dossier billed by advance, an amount."""

    dossier = forms.ChoiceField(label="Dossier")
    amount = forms.CharField(
        label="Montant de l'avance (DH)",
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    email = forms.EmailField(label="Email de confirmation du paiement", max_length=254)
    card_type = forms.ChoiceField(
        label="Type Carte Bancaire",
        choices=CARD_TYPES,
        initial=PaymentOrder.CardType.MOROCCAN,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, dossiers, **kwargs):
        super().__init__(*args, **kwargs)
        self.dossiers = {d.number: d for d in dossiers}
        self.fields["dossier"].choices = [
            (d.number, f"{d.number} — {d.get_service_display()} — {d.premises}") for d in dossiers
        ]
