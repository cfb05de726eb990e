"""The seeded wording customers read, for the Arabic and English catalogues.

Request type names, phase names and document labels are data (``RequestType``, ``Phase``,
``RequiredDocument`` rows seeded by rak_requests' migrations, edited in the back office). The
migrations are not extracted for translation, so their French literals are repeated here with
``gettext_noop``: the portal shows a row with ``{% translate obj.name %}`` / ``gettext(obj.name)``,
so a seeded wording appears in the customer's language and a wording staff changed later simply
shows as typed. ``tests/integration/test_i18n_requests.py`` checks that every seeded row is listed.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

REQUEST_TYPE_NAMES = (
    gettext_noop("Demande d'abonnement"),
    gettext_noop("Demande de branchement"),
    gettext_noop("Demande de résiliation"),
    gettext_noop("Demande de remboursement"),
    gettext_noop("Demande de domiciliation bancaire"),
    gettext_noop("Demande d'attestation"),
    gettext_noop("Demande de bénéficier du système tarification des compteurs collectifs"),
)

PHASE_NAMES = (
    gettext_noop("Recevabilité administrative"),
    gettext_noop("Recevabilité technique"),
    gettext_noop("Signature du contrat"),
    gettext_noop("Paiement des frais"),
    gettext_noop("Pose du compteur"),
    gettext_noop("Étude technique"),
    gettext_noop("Devis"),
    gettext_noop("Travaux"),
    gettext_noop("Traitement"),
    gettext_noop("Relève finale"),
    gettext_noop("Clôture du compte"),
    gettext_noop("Demande en attente"),
    gettext_noop("Versement du remboursement"),
    gettext_noop("Enquête technique"),
)

DOCUMENT_LABELS = (
    gettext_noop("Copie de la CIN (recto et verso) ou, pour une société, du registre de commerce"),
    gettext_noop("Titre de propriété ou contrat de bail"),
    gettext_noop("Attestation de résidence ou plan de situation du local"),
    gettext_noop("Permis d'habiter ou certificat de conformité"),
    gettext_noop("Plan de situation du terrain ou de l'immeuble"),
    gettext_noop("Autorisation de construire"),
    gettext_noop("Pièce d'identité (CIN recto et verso)"),
    gettext_noop("Formulaire de domiciliation signé par la banque"),
    gettext_noop("Relevé d'identité bancaire (RIB)"),
    gettext_noop("Demande signée"),
    gettext_noop("Attestation administrative signée par les autorités locales"),
)
