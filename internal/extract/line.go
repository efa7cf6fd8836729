// Package extract reads and writes the Aglaé extract of SPEC §6: JSON Lines,
// one DSE dossier per line. It validates each line on its own (types,
// enumerations, identifiers and their keys, UAI keys, dates, contradictions)
// and reports every fault with its line number and field.
package extract

// Line is one line of the extract, as it travels in JSON.
type Line struct {
	NumeroDossier      string    `json:"numeroDossier"`
	AnneeUniversitaire int       `json:"anneeUniversitaire"`
	Academie           string    `json:"academie"`
	Identifiant        string    `json:"identifiant"`
	Nom                string    `json:"nom"`
	Prenom             string    `json:"prenom"`
	DateNaissance      string    `json:"dateNaissance"` // YYYY-MM-DD
	Etat               string    `json:"etat"`
	PiecesManquantes   []string  `json:"piecesManquantes"`
	Decision           *Decision `json:"decision,omitempty"`
	Voeux              []Voeu    `json:"voeux"`
}

// Decision is the decision object of a line.
type Decision struct {
	Nature                 string   `json:"nature"`
	Echelon                *string  `json:"echelon,omitempty"`
	MontantAnnuel          *float64 `json:"montantAnnuel,omitempty"`
	Bareme                 *int     `json:"bareme,omitempty"`
	Date                   string   `json:"date"` // YYYY-MM-DD
	SousReserveProgression bool     `json:"sousReserveProgression"`
	ProgressionVerified    bool     `json:"progressionVerifiee"`
	PointsCharge           *int     `json:"pointsCharge,omitempty"`
	PointsDistance         *int     `json:"pointsDistance,omitempty"`
}

// Voeu is one wish of a dossier.
type Voeu struct {
	Rang          int    `json:"rang"`
	Academie      string `json:"academie"`
	UAI           string `json:"uai"`
	Etablissement string `json:"etablissement"`
	Formation     string `json:"formation"`
}
