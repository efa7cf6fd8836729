package suivi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// The formats the writers take.
const (
	FormatJSON = "json"
	FormatCSV  = "csv"
)

// checkFormat checks format, as an Invalid error of field format.
func checkFormat(format string) error {
	if format != FormatJSON && format != FormatCSV {
		return bourse.Invalid("format", "must be csv or json, got %q", clip(format))
	}
	return nil
}

// csvTime is the CSV's time format: RFC 3339 to the microsecond, Paris
// time, so that a time read back as depuis selects the same changes.
const csvTime = "2006-01-02T15:04:05.000000Z07:00"

// Document is the follow-up of an establishment as the API and the command
// line write it in JSON.
type Document struct {
	UAI     string    `json:"uai"`
	Since   time.Time `json:"depuis"`
	Changes []Change  `json:"changements"`
}

// suiviColumns are the CSV columns of the follow-up.
var suiviColumns = []string{
	"identifiant", "anneeUniversitaire", "vuLe", "vuPar",
	"avantStatut", "avantTypeDecision", "avantEchelon", "avantNumeroDossier", "avantCorrespondance", "avantIdentifiantAglae", "avantAnomalie",
	"apresStatut", "apresTypeDecision", "apresEchelon", "apresNumeroDossier", "apresCorrespondance", "apresIdentifiantAglae", "apresAnomalie",
}

// WriteSuivi writes the follow-up cs of the establishment uai since
// since to w, in format: json (one [Document]) or csv (RFC 4180, a header
// line, one line per change, the fields of Before and After prefixed with
// avant and apres). An unknown format is an Invalid error.
func WriteSuivi(w io.Writer, format, uai string, since time.Time, cs []Change) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	if format == FormatJSON {
		return writeJSON(w, Document{UAI: uai, Since: since.In(bourse.Paris), Changes: nonNil(cs)})
	}
	return writeCSV(w, suiviColumns, len(cs), func(i int, rec []string) []string {
		c := cs[i]
		rec = append(rec, c.Identifiant, strconv.Itoa(c.AnneeUniversitaire), c.SeenAt.In(bourse.Paris).Format(csvTime), string(c.SeenBy))
		rec = appendReponse(rec, c.Before)
		return appendReponse(rec, c.After)
	})
}

func appendReponse(rec []string, r Reponse) []string {
	return append(rec, string(r.Statut), string(r.TypeDecision), r.Echelon, r.NumeroDossier,
		string(r.Correspondance), r.IdentifiantAglae, string(r.Anomalie))
}

// column is one CSV column of a control list.
type column struct {
	nom   string
	value func(e *Etudiant) string
}

var (
	colIdentifiant       = column{"identifiant", func(e *Etudiant) string { return e.Identifiant }}
	colIdentifiantAglae  = column{"identifiantAglae", func(e *Etudiant) string { return e.IdentifiantAglae }}
	colStatut            = column{"statut", func(e *Etudiant) string { return string(e.Statut) }}
	colTypeDecision      = column{"typeDecision", func(e *Etudiant) string { return string(e.TypeDecision) }}
	colEchelon           = column{"echelon", func(e *Etudiant) string { return e.Echelon }}
	colNumeroDossier     = column{"numeroDossier", func(e *Etudiant) string { return e.NumeroDossier }}
	colSince             = column{"depuis", func(e *Etudiant) string { return e.Since.In(bourse.Paris).Format(csvTime) }}
	colConsultations     = column{"consultations", func(e *Etudiant) string { return strconv.Itoa(e.Consultations) }}
	colFirstConsultation = column{"premiereConsultation", func(e *Etudiant) string { return fmtTime(e.FirstConsultation) }}
	colLastConsultation  = column{"derniereConsultation", func(e *Etudiant) string { return fmtTime(e.LastConsultation) }}
)

// listeColumns are the CSV columns of each list of students: what a
// gestionnaire needs to act on it.
var listeColumns = map[string][]column{
	ListeNumerosDifferents:    {colIdentifiant, colIdentifiantAglae, colStatut, colTypeDecision, colEchelon, colNumeroDossier, colSince, colLastConsultation},
	ListeEnAttente:            {colIdentifiant, colSince, colConsultations, colFirstConsultation, colLastConsultation},
	ListeInconnus:             {colIdentifiant, colConsultations, colFirstConsultation, colLastConsultation},
	ListeIdentitesDifferentes: {colIdentifiant, colSince, colConsultations, colFirstConsultation, colLastConsultation},
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(bourse.Paris).Format(csvTime)
}

// WriteListe writes the control list c to w, in format: json (c's
// MarshalJSON) or csv (RFC 4180, a header line; the columns depend on the
// list; for the statuts list: statut, typeDecision, etudiants, and a last
// line TOTAL). An unknown format is an Invalid error.
func WriteListe(w io.Writer, format string, c Controle) error {
	if err := checkFormat(format); err != nil {
		return err
	}
	if format == FormatJSON {
		return writeJSON(w, c)
	}
	if c.Liste == ListeStatuts {
		return writeCSV(w, []string{"statut", "typeDecision", "etudiants"}, len(c.Statuts)+1, func(i int, rec []string) []string {
			if i == len(c.Statuts) {
				return append(rec, "TOTAL", "", strconv.Itoa(c.Total()))
			}
			s := c.Statuts[i]
			return append(rec, string(s.Statut), string(s.TypeDecision), strconv.Itoa(s.Etudiants))
		})
	}
	cols, ok := listeColumns[c.Liste]
	if !ok {
		return bourse.Invalid("liste", "unknown list %q", clip(c.Liste))
	}
	noms := make([]string, len(cols))
	for i, col := range cols {
		noms[i] = col.nom
	}
	return writeCSV(w, noms, len(c.Etudiants), func(i int, rec []string) []string {
		for _, col := range cols {
			rec = append(rec, col.value(&c.Etudiants[i]))
		}
		return rec
	})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeCSV writes a header line and n records, each built by line from an
// empty slice.
func writeCSV(w io.Writer, header []string, n int, line func(i int, rec []string) []string) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, 0, len(header))
	for i := range n {
		if err := cw.Write(line(i, rec[:0])); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
