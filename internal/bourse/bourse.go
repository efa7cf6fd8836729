// Package bourse holds the connector's business: the DSE dossier and its
// decision, the answer given to Apogée (statut, type of decision, échelon),
// the internal reasons recorded for the CROUS, the store interface, and the
// decision engine that turns a student's dossiers into an answer.
//
// The words of the domain stay French, as in the SPEC glossary; the
// PostgreSQL, REST and SOAP packages import this one and never each other.
package bourse

import (
	"context"
	"time"
)

// Etat is the instruction state of a DSE dossier.
type Etat string

// The instruction states of a dossier.
const (
	EtatNonTraite        Etat = "NON_TRAITE"        // received, not processed yet
	EtatPiecesManquantes Etat = "PIECES_MANQUANTES" // waiting for missing documents
	EtatValide           Etat = "VALIDE"            // validated by the CROUS
	EtatAnnule           Etat = "ANNULE"            // cancelled: ignored by lookups
)

// Etats lists every instruction state, in the order of the SPEC.
var Etats = []Etat{EtatNonTraite, EtatPiecesManquantes, EtatValide, EtatAnnule}

// Nature is the nature of a scholarship decision.
type Nature string

// The natures of a decision.
const (
	NatureConditionnelle Nature = "ATTRIBUTION_CONDITIONNELLE"
	NatureDefinitive     Nature = "ATTRIBUTION_DEFINITIVE"
	NatureRejet          Nature = "REJET"
)

// Natures lists every decision nature.
var Natures = []Nature{NatureConditionnelle, NatureDefinitive, NatureRejet}

// Echelons lists the scholarship levels, lowest first.
var Echelons = []string{"0bis", "1", "2", "3", "4", "5", "6", "7"}

// Statut is the answer given to Apogée.
type Statut string

// The four answers of SPEC §3.
const (
	StatutBoursier    Statut = "BOURSIER"
	StatutEnAttente   Statut = "EN_ATTENTE"
	StatutNonBoursier Statut = "NON_BOURSIER"
	StatutInconnu     Statut = "INCONNU"
)

// TypeDecision tells whether a BOURSIER answer rests on a conditional or a
// definitive decision.
type TypeDecision string

// The types of decision sent with BOURSIER.
const (
	TypeConditionnelle TypeDecision = "CONDITIONNELLE"
	TypeDefinitive     TypeDecision = "DEFINITIVE"
)

// Correspondance tells how the dossier that decided the answer was found.
type Correspondance string

// The ways a dossier is found.
const (
	ByIdentifiant Correspondance = "IDENTIFIANT"
	ByIdentity    Correspondance = "IDENTITE"
)

// Anomalie is a public warning sent with the answer.
type Anomalie string

// AnomalieIdentiteDifferente: the identifier's dossiers belong to someone
// with another identity (the number was probably mistyped onto someone else).
const AnomalieIdentiteDifferente Anomalie = "IDENTITE_DIFFERENTE"

// Raison is the internal reason of an answer. It is never sent to the caller:
// it is recorded in the consultation log for the CROUS.
type Raison string

// The internal reasons.
const (
	RaisonNonTraite            Raison = "NON_TRAITE"
	RaisonPiecesManquantes     Raison = "PIECES_MANQUANTES"
	RaisonProgressionAVerifier Raison = "PROGRESSION_A_VERIFIER"
	RaisonIdentiteDifferente   Raison = "IDENTITE_DIFFERENTE"
	RaisonIdentiteAmbigue      Raison = "IDENTITE_AMBIGUE"
	RaisonAucunDossier         Raison = "AUCUN_DOSSIER"
	RaisonDefinitive           Raison = "ATTRIBUTION_DEFINITIVE"
	RaisonConditionnelle       Raison = "ATTRIBUTION_CONDITIONNELLE"
	RaisonRejet                Raison = "REJET"
	// RaisonValidationInscription: Aglaé's decision is conditional, but the
	// connector validated it after the student's registration (SPEC §9).
	RaisonValidationInscription Raison = "VALIDATION_INSCRIPTION"
)

// Identity is a student's civil identity as typed at registration or as
// known by Aglaé.
type Identity struct {
	Nom           string
	Prenom        string
	DateNaissance time.Time // a date: midnight UTC
}

// Decision is the CROUS's decision on a dossier.
type Decision struct {
	Nature                 Nature
	Echelon                string // "" for a REJET
	Date                   time.Time
	SousReserveProgression bool
	ProgressionVerified    bool
}

// Dossier is what the engine needs of a DSE dossier: its number, its owner
// and their identity, its state and its decision.
type Dossier struct {
	NumeroDossier string
	Identifiant   string // the number under which Aglaé knows the student
	Annee         int
	Identity      Identity
	Etat          Etat
	Decision      *Decision // nil while no decision was taken
	// Validee: the connector holds a live validation of this dossier (a
	// registration made its conditional attribution definitive).
	Validee bool
}

// Query is one lookup: an identifier, an identity, or both, for one
// academic year. Its fields are already validated and normalised.
type Query struct {
	Identifiant string    // normalised INE; "" for a lookup by identity only
	Annee       int       // academic year, named by its first year
	Identity    *Identity // nil when the caller sent no identity

	// CodeEtablissement is the UAI of the establishment that asks, when it
	// said; the engine does not use it, the consultation log does.
	CodeEtablissement string
}

// Reponse is the answer of SPEC §3, with the internal reason beside it.
// String fields that do not apply are empty.
type Reponse struct {
	Identifiant        string
	AnneeUniversitaire int
	Statut             Statut
	TypeDecision       TypeDecision
	Echelon            string
	NumeroDossier      string
	Correspondance     Correspondance
	IdentifiantAglae   string
	Anomalie           Anomalie

	// Raison is internal: recorded for the CROUS, never sent to the caller.
	Raison Raison
}

// Consultant answers lookups. *Service is the plain one; wrappers add the
// consultation log.
type Consultant interface {
	// Consult validates in and answers it. Errors are of kind Invalid,
	// Unavailable or Internal.
	Consult(ctx context.Context, in Saisie) (Reponse, error)
	// ConsultBatch answers every identifier of l, in the same order. The
	// error is of kind Invalid (the batch as a whole is wrong: too many
	// identifiers, a bad year), Unavailable or Internal.
	ConsultBatch(ctx context.Context, l Batch) ([]BatchReponse, error)
}

// Store reads Aglaé's dossiers.
type Store interface {
	// Dossiers returns, for the demande's year, the dossiers of the
	// demande's identifier and, when it carries an identity, the dossiers of
	// every student with that normalised identity, in one round trip.
	// It returns errors of kind Unavailable or Internal.
	Dossiers(ctx context.Context, d Query) (byIdentifiant, byIdentity []Dossier, err error)
	// DossiersBatch returns, for the year, the dossiers of every identifier,
	// by identifier, in one query. Errors are of kind Unavailable or
	// Internal.
	DossiersBatch(ctx context.Context, annee int, identifiants []string) (map[string][]Dossier, error)
}
