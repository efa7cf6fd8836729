package journal

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Filter selects the consultations to export.
type Filter struct {
	UAI   string    // the establishment; "" for all
	Since time.Time // from this instant on (inclusive); zero: from the start
	Until time.Time // up to this instant (exclusive); zero: up to now
}

// Row is one exported consultation, in the columns' names; JSON null for
// what does not apply. Times are in Europe/Paris time, with their offset.
type Row struct {
	Horodatage       time.Time `json:"horodatage"`
	ClientID         string    `json:"client_id"`
	UAI              *string   `json:"uai"`
	Canal            string    `json:"canal"`
	Identifiant      *string   `json:"identifiant"`
	Annee            int16     `json:"annee_universitaire"`
	Statut           string    `json:"statut"`
	TypeDecision     *string   `json:"type_decision"`
	Echelon          *string   `json:"echelon"`
	Raison           string    `json:"raison"`
	Correspondance   *string   `json:"correspondance"`
	IdentifiantAglae *string   `json:"identifiant_aglae"`
	NumeroDossier    *string   `json:"numero_dossier"`
	Anomalie         *string   `json:"anomalie"`
	RequestID        string    `json:"request_id"`
	LatencyUS        int32     `json:"latence_us"`
}

// exportTime is the CSV's time format: RFC 3339 to the microsecond.
const exportTime = "2006-01-02T15:04:05.000000Z07:00"

// Columns are the consultation log's columns, in [Consultation]'s and
// [Row]'s order: the table's, and the header of the CSV export.
var Columns = []string{
	"horodatage", "client_id", "uai", "canal", "identifiant", "annee_universitaire", "statut",
	"type_decision", "echelon", "raison", "correspondance", "identifiant_aglae", "numero_dossier",
	"anomalie", "request_id", "latence_us",
}

// Source reads the consultation log for the export
// (postgres.Consultations).
type Source interface {
	// Consultations calls each for every consultation f selects, ordered
	// by horodatage, as they are read. An error each returns stops the
	// read and is returned as it is; the source's own errors are of kind
	// Unavailable or Internal. The Row each is given is reused: each
	// must not keep it.
	Consultations(ctx context.Context, f Filter, each func(*Row) error) error
}

// Export writes the consultations f selects to w, ordered by horodatage,
// streaming them, and returns how many it wrote. format is "csv" (RFC 4180,
// a header line of the column names, NULL as an empty field) or "json"
// (JSON Lines, one [Row] a line). Database errors are of kind Unavailable
// or Internal; an unknown format is Invalid.
func Export(ctx context.Context, src Source, f Filter, w io.Writer, format string) (int, error) {
	if format != "csv" && format != "json" {
		return 0, bourse.Invalid("format", "must be csv or json, got %q", format)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		cw  *csv.Writer
		enc *json.Encoder
		rec []string
	)
	if format == "csv" {
		cw = csv.NewWriter(bw)
		if err := cw.Write(Columns); err != nil {
			return 0, err
		}
		rec = make([]string, len(Columns))
	} else {
		enc = json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
	}
	n := 0
	err := src.Consultations(ctx, f, func(l *Row) error {
		l.Horodatage = l.Horodatage.In(bourse.Paris)
		var err error
		if cw != nil {
			rec = append(rec[:0], l.Horodatage.Format(exportTime), l.ClientID, deref(l.UAI), l.Canal,
				deref(l.Identifiant), strconv.Itoa(int(l.Annee)), l.Statut, deref(l.TypeDecision), deref(l.Echelon),
				l.Raison, deref(l.Correspondance), deref(l.IdentifiantAglae), deref(l.NumeroDossier),
				deref(l.Anomalie), l.RequestID, strconv.Itoa(int(l.LatencyUS)))
			err = cw.Write(rec)
		} else {
			err = enc.Encode(l)
		}
		if err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Purger drops old consultations from the log (postgres.Consultations).
type Purger interface {
	// PurgeBefore drops, in one transaction, every month of the log that
	// ends at or before the first day of cutoff's month (00:00, Paris
	// time), and what was recorded before that limit elsewhere. Errors are
	// of kind Unavailable or Internal.
	PurgeBefore(ctx context.Context, cutoff time.Time) (PurgeResult, error)
}

// PurgeResult is what a purge did.
type PurgeResult struct {
	// Limit is the cutoff rounded down to the first day of its month,
	// 00:00 Paris time: nothing recorded before it is left.
	Limit time.Time
	// Months are the months dropped, as YYYY-MM, oldest first.
	Months []string
	// DefaultRows are the rows before Limit deleted from the default
	// partition (rows no month held; normally 0).
	DefaultRows int64
}

// Purge is the retention: it drops the consultations recorded before the
// first day of cutoff's month (00:00, Paris time), whole months at a time,
// in one transaction. The rows of cutoff's own month are kept until a
// later purge covers that whole month: a retention of "13 months" run
// daily keeps between 13 and 14. Database errors are of kind Unavailable
// or Internal; nothing is dropped then.
func Purge(ctx context.Context, p Purger, cutoff time.Time) (PurgeResult, error) {
	if cutoff.IsZero() {
		return PurgeResult{}, bourse.Invalid("avant", "required")
	}
	return p.PurgeBefore(ctx, cutoff)
}
