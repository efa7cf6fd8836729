package journal

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// Filtre selects the consultations to export.
type Filtre struct {
	UAI    string    // the establishment; "" for all
	Depuis time.Time // from this instant on (inclusive); zero: from the start
	Jusqua time.Time // up to this instant (exclusive); zero: up to now
}

// Ligne is one exported consultation, in the columns' names; JSON null for
// what does not apply. Times are in Europe/Paris time, with their offset.
type Ligne struct {
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
	LatenceUS        int32     `json:"latence_us"`
}

// exportTime is the CSV's time format: RFC 3339 to the microsecond.
const exportTime = "2006-01-02T15:04:05.000000Z07:00"

// Export writes the consultations f selects to w, ordered by horodatage,
// streaming them, and returns how many it wrote. format is "csv" (RFC 4180,
// a header line of the column names, NULL as an empty field) or "json"
// (JSON Lines, one [Ligne] a line). Database errors are of kind Unavailable
// or Internal; an unknown format is Invalid.
func Export(ctx context.Context, pool *pgxpool.Pool, f Filtre, w io.Writer, format string) (int, error) {
	if format != "csv" && format != "json" {
		return 0, bourse.Invalid("format", "must be csv or json, got %q", format)
	}
	var (
		conds []string
		args  []any
	)
	if f.UAI != "" {
		args = append(args, f.UAI)
		conds = append(conds, "uai = $"+strconv.Itoa(len(args)))
	}
	if !f.Depuis.IsZero() {
		args = append(args, f.Depuis)
		conds = append(conds, "horodatage >= $"+strconv.Itoa(len(args)))
	}
	if !f.Jusqua.IsZero() {
		args = append(args, f.Jusqua)
		conds = append(conds, "horodatage < $"+strconv.Itoa(len(args)))
	}
	q := "SELECT " + strings.Join(columns, ", ") + " FROM connecteur.consultation"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY horodatage"

	rows, err := pool.Query(ctx, q, args...)
	if err != nil {
		return 0, postgres.Translate("export consultations", err)
	}
	defer rows.Close()

	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		cw  *csv.Writer
		enc *json.Encoder
		rec []string
	)
	if format == "csv" {
		cw = csv.NewWriter(bw)
		if err := cw.Write(columns); err != nil {
			return 0, err
		}
		rec = make([]string, len(columns))
	} else {
		enc = json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
	}
	n := 0
	for rows.Next() {
		var l Ligne
		if err := rows.Scan(&l.Horodatage, &l.ClientID, &l.UAI, &l.Canal, &l.Identifiant, &l.Annee, &l.Statut,
			&l.TypeDecision, &l.Echelon, &l.Raison, &l.Correspondance, &l.IdentifiantAglae, &l.NumeroDossier,
			&l.Anomalie, &l.RequestID, &l.LatenceUS); err != nil {
			return n, postgres.Translate("export consultations", err)
		}
		l.Horodatage = l.Horodatage.In(bourse.Paris)
		if cw != nil {
			rec = append(rec[:0], l.Horodatage.Format(exportTime), l.ClientID, deref(l.UAI), l.Canal,
				deref(l.Identifiant), strconv.Itoa(int(l.Annee)), l.Statut, deref(l.TypeDecision), deref(l.Echelon),
				l.Raison, deref(l.Correspondance), deref(l.IdentifiantAglae), deref(l.NumeroDossier),
				deref(l.Anomalie), l.RequestID, strconv.Itoa(int(l.LatenceUS)))
			err = cw.Write(rec)
		} else {
			err = enc.Encode(&l)
		}
		if err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, postgres.Translate("export consultations", err)
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

// purgeBatch is how many rows one DELETE of Purge removes: each batch is
// its own short transaction.
var purgeBatch = 10_000

// Purge deletes the consultations recorded before avant (retention), in
// batches of short transactions so that it never holds a long lock nor
// blocks the writer, and returns how many it deleted. Database errors are
// of kind Unavailable or Internal; what was deleted before stays deleted.
func Purge(ctx context.Context, pool *pgxpool.Pool, avant time.Time) (int64, error) {
	if avant.IsZero() {
		return 0, bourse.Invalid("avant", "required")
	}
	const q = `DELETE FROM connecteur.consultation WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM connecteur.consultation WHERE horodatage < $1 LIMIT $2))`
	var total int64
	for {
		tag, err := pool.Exec(ctx, q, avant, purgeBatch)
		if err != nil {
			return total, postgres.Translate("purge consultations", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(purgeBatch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, postgres.Translate("purge consultations", fmt.Errorf("interrupted: %w", err))
		}
	}
}
