"""Bodies of the requests endpoints (« Services et demandes », « Suivi des demandes », devis,
contrats, attestations): inputs parsed strictly (what the schema says is what is accepted) before
the portal's forms apply their rules; answers documented for the schema. Component names start
with « Request » / « Quote » / « Contract » / « Attestation »."""

from __future__ import annotations

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string only (DRF would read 12 as « 12 »)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true`` / ``false`` (JSON), « true » / « false » (multipart)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictListField(serializers.ListField):
    def to_internal_value(self, data):
        if isinstance(data, str) or not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


# --- the catalogue ------------------------------------------------------------------------------------


class RequestChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)


class RequestFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    type = serializers.ChoiceField(
        choices=["text", "textarea", "integer", "decimal", "choice", "multiple_choice", "boolean", "email", "file"],
        help_text="Type de saisie.",
    )
    required = serializers.BooleanField()  # type: ignore[assignment]  # a declared field (DRF)
    help_text = serializers.CharField(allow_blank=True)  # type: ignore[assignment]  # a declared field (DRF)
    max_length = serializers.IntegerField(allow_null=True)
    choices = RequestChoiceSerializer(many=True)


class RequestDocumentSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Nom du champ de fichier : « doc_<code> ».")
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    required = serializers.BooleanField()  # type: ignore[assignment]  # a declared field (DRF)
    formats = serializers.CharField(help_text="Formats acceptés, en mots.")
    accept = serializers.CharField(help_text="Extensions proposées au sélecteur de fichiers.")
    max_bytes = serializers.IntegerField()
    max_size = serializers.CharField()


class RequestTypeSerializer(serializers.Serializer):
    slug = serializers.CharField(help_text="Identifiant du service dans les adresses de l'API.")
    code = serializers.CharField(help_text="Code du type de demande (SUBSCRIPTION, TERMINATION…).")
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    description = serializers.CharField(allow_blank=True)
    filing = serializers.ChoiceField(
        choices=["wizard", "form", "attestation", "refund", "own_page"],
        help_text=(
            "wizard : brouillon en 4 étapes (/draft/…) ; form : un envoi (/requests/) ; attestation : "
            "/attestations/ ; refund : /refunds/requests/ ; own_page : pas encore dans l'API (page du portail)."
        ),
    )
    login_required = serializers.BooleanField()
    otp_required = serializers.BooleanField(help_text="Un code reçu par SMS confirme le dépôt.")
    contact_required = serializers.BooleanField(help_text="Le téléphone et l'e-mail du profil sont exigés.")
    documents = RequestDocumentSerializer(many=True)
    fields = RequestFieldSerializer(many=True)  # type: ignore[assignment]  # a declared field (DRF)
    portal_url = serializers.CharField(allow_blank=True)


# --- « Suivi des demandes » ---------------------------------------------------------------------------


class RequestPhaseSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class RequestSummarySerializer(serializers.Serializer):
    number = serializers.CharField()
    type_code = serializers.CharField()
    type_label = serializers.CharField()
    status = serializers.CharField(help_text="EN_COURS, COMPLEMENT_DEMANDE, ACCEPTEE, REJETEE, ANNULEE.")
    status_label = serializers.CharField(help_text="L'état lu par le client (« Signer le contrat »…).")
    phase = RequestPhaseSerializer(allow_null=True)
    expected_action = serializers.CharField(help_text="NONE, ANSWER_COMPLEMENT, CALL, SIGN, PAY, ACCEPT_QUOTE…")
    action_expected = serializers.BooleanField(help_text="Le client a quelque chose à faire.")
    filed_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)


class RequestStepSerializer(serializers.Serializer):
    name = serializers.CharField()
    done = serializers.BooleanField()
    current = serializers.BooleanField()


class RequestEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    actor_kind = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    phase = serializers.CharField(allow_blank=True)


class RequestAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    original_name = serializers.CharField(allow_blank=True)
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class RequestComplementSerializer(serializers.Serializer):
    asked_at = serializers.DateTimeField()
    message = serializers.CharField(allow_blank=True)
    documents = serializers.ListField(child=serializers.CharField())


class RequestRowSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    value = serializers.CharField(allow_blank=True)


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    service = serializers.CharField()
    service_label = serializers.CharField()
    status = serializers.CharField(help_text="DRAFT (à signer) ou SIGNED.")
    fees_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    signed_at = serializers.DateTimeField(allow_null=True)
    body_html = serializers.CharField(help_text="Le texte du contrat à lire avant de signer.")
    pdf_available = serializers.BooleanField(help_text="Le PDF signé se télécharge après le paiement des frais.")


class RequestBillSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField()
    total_ttc = serializers.DecimalField(max_digits=14, decimal_places=2)
    settled = serializers.BooleanField()


class RequestActionsSerializer(serializers.Serializer):
    answer_complement = serializers.BooleanField()
    cancel = serializers.BooleanField()
    call = serializers.BooleanField()
    sign = serializers.BooleanField()
    pay_fees = serializers.BooleanField()
    accept_quote = serializers.BooleanField()
    pay_works = serializers.BooleanField()
    final_index = serializers.BooleanField()


class RequestDetailSerializer(RequestSummarySerializer):
    steps = RequestStepSerializer(many=True)
    events = RequestEventSerializer(many=True)
    attachments = RequestAttachmentSerializer(many=True)
    complement = RequestComplementSerializer(allow_null=True, help_text="Ce que la RAK attend du client.")
    summary = RequestRowSerializer(many=True)
    receipt_available = serializers.BooleanField()
    actions = RequestActionsSerializer()
    contracts = ContractSerializer(many=True)
    fee_bill = RequestBillSerializer(allow_null=True)
    final_index_dossiers = serializers.ListField(
        child=serializers.CharField(), help_text="Dossiers dont l'index final est attendu (résiliation)."
    )


class ComplementAnswerSerializer(serializers.Serializer):
    text = StrictCharField(required=False, allow_blank=True, max_length=4000, help_text="Votre réponse.")
    file = serializers.FileField(required=False, help_text="PDF, image ou fichier compressé, 2 Mo au plus.")


class FinalIndexSerializer(serializers.Serializer):
    dossier = StrictCharField(max_length=40)
    index = StrictCharField(max_length=20, help_text="Les chiffres affichés par le compteur.")
    photo = serializers.FileField(help_text="Photo nette du cadran (JPEG, PNG, WebP ou HEIC, 2 Mo au plus).")
    confirm = StrictBooleanField(required=False, default=False, help_text="Je confirme cet index (s'il surprend).")


class RequestFiledSerializer(serializers.Serializer):
    request = RequestSummarySerializer()
    message = serializers.CharField()
    customer_code = serializers.CharField(help_text="Code client (créé pour une nouvelle personne).")
    account_created = serializers.BooleanField()
    password_delivery = serializers.CharField(
        allow_blank=True, help_text="Où le mot de passe du nouveau compte a été envoyé."
    )


# --- filing a kind's form (« /espace/services/<slug>/ ») ---------------------------------------------


class KindFileSerializer(serializers.Serializer):
    """The fields of every form the API files (each type uses its own, see the catalogue's
    ``fields``); each required document as a file field ``doc_<code>``."""

    dossiers = StrictListField(child=StrictCharField(max_length=40), required=False, help_text="Numéros de dossier.")
    reason = StrictCharField(required=False, allow_blank=True, max_length=500, help_text="Motif (résiliation).")
    premises = StrictCharField(required=False, max_length=40, help_text="Référence du local (domiciliation).")
    rib = StrictCharField(required=False, max_length=40, help_text="RIB, 24 chiffres (domiciliation).")


class KindPendingSerializer(serializers.Serializer):
    otp_required = serializers.BooleanField()
    draft = serializers.CharField(help_text="À renvoyer avec le code reçu par SMS (POST …/requests/confirm/).")
    phone_hint = serializers.CharField(help_text="Les derniers chiffres du numéro.")
    message = serializers.CharField()


class KindConfirmSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000)
    otp = StrictCharField(max_length=6, min_length=6, help_text="Le code reçu par SMS.")


class DraftTokenSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000)


# --- the public 4-step wizard (abonnement, branchement) -----------------------------------------------


class DraftPersonSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000, required=False, help_text="Le brouillon en cours, s'il existe.")
    kind = serializers.ChoiceField(choices=["PARTICULIER", "ENTREPRISE"], help_text="Vous êtes.")
    civility = StrictCharField(max_length=10, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=80, required=False, allow_blank=True)
    first_name = StrictCharField(max_length=80, required=False, allow_blank=True)
    company_name = StrictCharField(max_length=160, required=False, allow_blank=True)
    identity = StrictCharField(max_length=20, help_text="CIN ou ICE.")
    email = StrictCharField(max_length=254)
    phone = StrictCharField(max_length=20, help_text="Mobile : 06…, 07…, +212….")


class DraftOtpSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000)
    otp = StrictCharField(max_length=6, min_length=6, help_text="Le code reçu par SMS.")


class DraftInfoSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000, required=False, help_text="Absent : un client connecté commence ici.")
    services = StrictListField(child=serializers.ChoiceField(choices=["EAU", "ELECTRICITE"]), help_text="Services.")
    address = StrictCharField(max_length=200)
    district = StrictCharField(max_length=80)
    city = StrictCharField(max_length=80)
    power_kva = StrictCharField(max_length=10, required=False, allow_blank=True, help_text="Pour l'électricité.")
    caliber_mm = StrictCharField(max_length=4, required=False, allow_blank=True, help_text="Pour l'eau.")
    usage = StrictCharField(max_length=20, required=False, allow_blank=True, help_text="Abonnement.")
    tariff_category_eau = StrictCharField(max_length=30, required=False, allow_blank=True)
    tariff_category_electricite = StrictCharField(max_length=30, required=False, allow_blank=True)
    building_type = StrictCharField(max_length=30, required=False, allow_blank=True, help_text="Branchement.")
    units = serializers.IntegerField(required=False, min_value=1, max_value=999, help_text="Branchement.")
    works_description = StrictCharField(max_length=2000, required=False, allow_blank=True)


class DraftDocumentsSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000, help_text="Chaque pièce en champ de fichier « doc_<code> ».")


class DraftSubmitSerializer(serializers.Serializer):
    draft = StrictCharField(max_length=20000)
    accept_terms = StrictBooleanField()
    accept_data_processing = StrictBooleanField(help_text="Accord au traitement des données (loi 09-08).")


class DraftStagedSerializer(serializers.Serializer):
    original = serializers.CharField()
    size = serializers.IntegerField()
    mime = serializers.CharField()


class DraftDocumentSerializer(RequestDocumentSerializer):
    staged = DraftStagedSerializer(allow_null=True)


class DraftStateSerializer(serializers.Serializer):
    draft = serializers.CharField(help_text="Le brouillon signé, à renvoyer avec l'étape suivante (24 h).")
    next_step = serializers.IntegerField(help_text="1 personne et téléphone, 2 informations, 3 pièces, 4 validation.")
    otp_sent = serializers.BooleanField()
    phone_verified = serializers.BooleanField()
    summary = RequestRowSerializer(many=True)
    documents = DraftDocumentSerializer(many=True)
    message = serializers.CharField(allow_blank=True)


# --- devis ---------------------------------------------------------------------------------------------


class QuoteLineSerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF)
    quantity = serializers.CharField()
    unit_price = serializers.CharField()
    amount = serializers.CharField()


class QuoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    request_number = serializers.CharField()
    status = serializers.CharField(help_text="VALIDE, ACCEPTE, REFUSE, EXPIRE.")
    status_label = serializers.CharField()
    amount_ht = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_tva = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_ttc = serializers.DecimalField(max_digits=14, decimal_places=2)
    valid_until = serializers.DateField(allow_null=True)
    issued_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    expired = serializers.BooleanField()
    can_accept = serializers.BooleanField()
    pdf_available = serializers.BooleanField()
    lines = QuoteLineSerializer(many=True)
    works_bill = RequestBillSerializer(allow_null=True, help_text="La facture des travaux après acceptation.")


class QuoteAcceptedSerializer(serializers.Serializer):
    quote = QuoteSerializer()
    message = serializers.CharField()


# --- contrats ------------------------------------------------------------------------------------------


class ContractSignSerializer(serializers.Serializer):
    signature = StrictCharField(
        max_length=2_000_000, help_text="La signature dessinée : une image PNG en data URL (data:image/png;base64,…)."
    )


class ContractSignedSerializer(serializers.Serializer):
    contract = ContractSerializer()
    request = RequestSummarySerializer()
    message = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()
    request = RequestSummarySerializer()


# --- attestations ----------------------------------------------------------------------------------


class AttestationSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="N° de la demande d'attestation.")
    attestation_type = serializers.CharField()
    type_label = serializers.CharField()
    dossier_number = serializers.CharField()
    reference = serializers.CharField(allow_blank=True, help_text="Code de référence (« Vérifier des documents »).")
    filed_at = serializers.DateTimeField()
    pdf_available = serializers.BooleanField()


class AttestationGenerateSerializer(serializers.Serializer):
    attestation_type = serializers.ChoiceField(choices=["ABONNEMENT", "CONSOMMATION", "RESILIATION"])
    dossier_number = StrictCharField(max_length=40)


class RequestPaySerializer(serializers.Serializer):
    conditions = StrictBooleanField(help_text="J'ai lu et j'accepte les conditions générales (paiement en ligne).")
    email = serializers.EmailField(
        max_length=254, required=False, help_text="E-mail de confirmation (par défaut celui du compte)."
    )
