// Package suivi is the other direction of the connector: what the
// consultation log tells an establishment about the students it asked
// about. It holds the follow-up (which students' answer changed, and
// when), the control lists the pilot university mailed to its
// gestionnaires (numbers that differ from Aglaé's, students still
// waiting, unknown identifiers, identity conflicts, counts per statut),
// the nightly re-check that re-asks the engine about the students whose
// answer was not final (and was decided by their identifier) and whose
// dossier an import changed since ([Nightly]; [Recheck] re-asks them all),
// and the
// report that sends all of it by e-mail.
//
// # Everything is read from the consultation log
//
// A student, here, is an identifier an establishment asked about for an
// academic year: the rows of connecteur.consultation with that uai,
// identifiant and annee_universitaire, in time order. Their "answer" is
// the public part of a row (statut, typeDecision, echelon, correspondance,
// identifiantAglae, anomalie; numeroDossier rides along but a new dossier
// number alone is no change); the internal reason is never shown, since
// it is not sent to the establishment either. A student's last answer is
// their latest row; a change is a row whose answer differs from the row
// before it.
//
// Nothing here asks the engine while reading: the follow-up and the lists
// are window functions over the log. The re-check ([Recheck]) is the only
// part that asks the engine, through the batch path and the traced
// consultant, so its answers are recorded like any other consultation
// (canal RECHECK) and a change it sees shows in the follow-up from then on.
// This keeps every answer the establishment can read traced, keeps a GET
// from writing to the log or loading the engine, and makes a change seen
// by Apogée itself (a registration replayed with the student's identity)
// show exactly like one seen by the re-check.
//
// Lookups by identity only carry no identifier, and the log keeps no name:
// such rows cannot be told apart by student and are left out of the
// follow-up, the lists and the re-check.
package suivi

import (
	"context"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Reponse is what an establishment was answered about a student: the
// public fields of the answer, never the internal reason. Fields that do
// not apply are empty.
type Reponse struct {
	Statut           bourse.Statut         `json:"statut"`
	TypeDecision     bourse.TypeDecision   `json:"typeDecision,omitempty"`
	Echelon          string                `json:"echelon,omitempty"`
	NumeroDossier    string                `json:"numeroDossier,omitempty"`
	Correspondance   bourse.Correspondance `json:"correspondance,omitempty"`
	IdentifiantAglae string                `json:"identifiantAglae,omitempty"`
	Anomalie         bourse.Anomalie       `json:"anomalie,omitempty"`
}

// Differs reports whether r and o are different answers: any public field
// but the dossier number differs.
func (r Reponse) Differs(o Reponse) bool {
	return r.Statut != o.Statut || r.TypeDecision != o.TypeDecision || r.Echelon != o.Echelon ||
		r.Correspondance != o.Correspondance || r.IdentifiantAglae != o.IdentifiantAglae || r.Anomalie != o.Anomalie
}

// Final reports whether r is a final answer, one the re-check does not
// ask again: BOURSIER DEFINITIVE or NON_BOURSIER. EN_ATTENTE,
// BOURSIER CONDITIONNELLE and INCONNU can still move.
func (r Reponse) Final() bool {
	return r.Statut == bourse.StatutNonBoursier ||
		r.Statut == bourse.StatutBoursier && r.TypeDecision == bourse.TypeDefinitive
}

// publicReponse is the public part of an engine's answer.
func publicReponse(r bourse.Reponse) Reponse {
	return Reponse{
		Statut: r.Statut, TypeDecision: r.TypeDecision, Echelon: r.Echelon, NumeroDossier: r.NumeroDossier,
		Correspondance: r.Correspondance, IdentifiantAglae: r.IdentifiantAglae, Anomalie: r.Anomalie,
	}
}

// Change is a student whose answer changed: the answer given before
// (Before), the current one (After), and when the current one was first
// given (SeenAt), by which channel (SeenBy: RECHECK when the nightly re-check
// saw it, REST or SOAP when a consultation of the establishment did).
type Change struct {
	Identifiant        string       `json:"identifiant"`
	AnneeUniversitaire int          `json:"anneeUniversitaire"`
	Before             Reponse      `json:"avant"`
	After              Reponse      `json:"apres"`
	SeenAt             time.Time    `json:"vuLe"`
	SeenBy             bourse.Canal `json:"vuPar"`
}

// Store reads the consultation log (postgres.Suivi). The uai it is given
// is valid and normalised, annee within bourse.AnneeMin and AnneeMax; its
// errors are of kind Unavailable or Internal.
type Store interface {
	// Changes returns, for the establishment uai, every student it
	// asked about by identifier (any academic year) whose current answer
	// (the latest row) is distinct from the answer of the row before it
	// and was first given at or after since, with that previous answer as
	// Before: the last change of each, oldest first, then by identifier and
	// year. A first answer is no change.
	Changes(ctx context.Context, uai string, since time.Time) ([]Change, error)
	// Etudiants returns every student the establishment uai asked about by
	// identifier for the academic year annee, in any order: their last
	// answer, since when it has been given (the last change, or the first
	// row), and the establishment's own consultations (the re-check's
	// excluded: Consultations, FirstConsultation and
	// LastConsultation, nil when there are none).
	Etudiants(ctx context.Context, uai string, annee int) ([]Etudiant, error)
}

// Suivi returns the follow-up of the establishment uai: every student it
// asked about (by identifier, any academic year) whose current answer
// differs from the answer given before it and was first given at or after
// since, oldest change first. Before is the answer given just before the
// current one; a student whose answer changed twice from since on shows
// once, with the answer before the last change.
//
// The current answer is the latest one in the log: run [Recheck] (or let
// Apogée consult again) for the log to know what Aglaé knows now. Errors
// are of kind Invalid (uai), Unavailable or Internal.
func Suivi(ctx context.Context, store Store, uai string, since time.Time) ([]Change, error) {
	code, err := bourse.ParseUAI("uai", uai)
	if err != nil {
		return nil, err
	}
	u := string(code)
	cs, err := store.Changes(ctx, u, since)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		cs[i].SeenAt = cs[i].SeenAt.In(bourse.Paris)
	}
	return nonNil(cs), nil
}
