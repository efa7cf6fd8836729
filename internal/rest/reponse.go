// Package rest is the connector's REST/JSON face: the wire types of SPEC §3
// and §5 and the handlers that adapt HTTP to the decision engine.
package rest

import "github.com/aglae-connector/aglae-connector/internal/bourse"

// Reponse is the JSON answer of a lookup, with the SPEC §3 field names;
// fields that do not apply are omitted.
type Reponse struct {
	Identifiant        string `json:"identifiant,omitempty"`
	AnneeUniversitaire int    `json:"anneeUniversitaire"`
	Statut             string `json:"statut"`
	TypeDecision       string `json:"typeDecision,omitempty"`
	Echelon            string `json:"echelon,omitempty"`
	NumeroDossier      string `json:"numeroDossier,omitempty"`
	Correspondance     string `json:"correspondance,omitempty"`
	IdentifiantAglae   string `json:"identifiantAglae,omitempty"`
	Anomalie           string `json:"anomalie,omitempty"`
}

// ToReponse converts the engine's answer to its JSON form; the internal
// reason stays behind.
func ToReponse(r bourse.Reponse) Reponse {
	return Reponse{
		Identifiant:        r.Identifiant,
		AnneeUniversitaire: r.AnneeUniversitaire,
		Statut:             string(r.Statut),
		TypeDecision:       string(r.TypeDecision),
		Echelon:            r.Echelon,
		NumeroDossier:      r.NumeroDossier,
		Correspondance:     string(r.Correspondance),
		IdentifiantAglae:   r.IdentifiantAglae,
		Anomalie:           string(r.Anomalie),
	}
}
