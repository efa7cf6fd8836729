package journal

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
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

// Purger deletes old consultations from the log (postgres.Consultations).
type Purger interface {
	// DeleteBefore deletes at most limit consultations recorded before
	// cutoff, in one short transaction, and returns how many it deleted.
	// Errors are of kind Unavailable or Internal.
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// purgeBatch is how many rows one transaction of Purge deletes.
var purgeBatch = 10_000

// Purge deletes the consultations recorded before cutoff (retention), in
// batches of short transactions so that it never holds a long lock nor
// blocks the writer, and returns how many it deleted. Database errors are
// of kind Unavailable or Internal; what was deleted before stays deleted.
func Purge(ctx context.Context, p Purger, cutoff time.Time) (int64, error) {
	if cutoff.IsZero() {
		return 0, bourse.Invalid("avant", "required")
	}
	var total int64
	for {
		n, err := p.DeleteBefore(ctx, cutoff, purgeBatch)
		total += n
		if err != nil {
			return total, err
		}
		if n < int64(purgeBatch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, bourse.Unavailable("purge consultations", fmt.Errorf("interrupted: %w", err))
		}
	}
}
