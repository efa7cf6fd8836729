package postgres

import (
	"context"
	"encoding/hex"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/extract"
)

// lot is a run of valid dossiers of the extract, sorted by numeroDossier.
type lot struct {
	dossiers   []extract.Dossier
	empreintes []string // the fingerprint of each dossier
	faulty     bool     // a fault was found on this lot's lines or before
	twice      bool     // the lot holds a dossier number twice
}

// lotReader reads and validates the extract in its own goroutine, while
// PostgreSQL merges the lot before: lots go through a channel that holds
// one, so that at most three lots are in memory at once.
type lotReader struct {
	reader *extract.Reader
	lots   chan lot
	done   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

func startLotReader(ctx context.Context, r io.Reader, opts ImportOptions) *lotReader {
	lr := &lotReader{
		reader: extract.NewReader(r, opts.OnFault),
		lots:   make(chan lot, 1),
		done:   make(chan struct{}),
	}
	lr.wg.Add(1)
	go func() {
		defer lr.wg.Done()
		defer close(lr.lots)
		lr.run(ctx, opts)
	}()
	return lr
}

// stop stops the reader at its next line and waits for it: no callback
// runs after stop returns.
func (lr *lotReader) stop() {
	lr.once.Do(func() { close(lr.done) })
	for range lr.lots { //nolint:revive // drain, so that the reader never blocks
	}
	lr.wg.Wait()
}

func (lr *lotReader) run(ctx context.Context, opts ImportOptions) {
	nextProgress := 0
	progress := func() {
		if opts.OnProgress != nil && opts.ProgressEvery > 0 && lr.reader.Lines() >= nextProgress {
			opts.OnProgress(lr.reader.Lines())
			nextProgress = lr.reader.Lines() + opts.ProgressEvery
		}
	}
	cur := lot{dossiers: make([]extract.Dossier, 0, opts.lot)}
	var buf []byte
	send := func() bool {
		// A number twice in a lot is a fault (nothing is merged): no need for a stable sort.
		slices.SortFunc(cur.dossiers, func(a, b extract.Dossier) int {
			return strings.Compare(a.NumeroDossier, b.NumeroDossier)
		})
		for i := 1; i < len(cur.dossiers); i++ {
			if cur.dossiers[i].NumeroDossier == cur.dossiers[i-1].NumeroDossier {
				cur.twice = true
			}
		}
		cur.empreintes = make([]string, len(cur.dossiers))
		for i := range cur.dossiers {
			cur.empreintes[i] = fingerprint(&cur.dossiers[i], &buf)
		}
		select {
		case lr.lots <- cur:
		case <-lr.done:
			return false
		case <-ctx.Done():
			return false
		}
		cur = lot{dossiers: make([]extract.Dossier, 0, opts.lot)}
		return true
	}
	for {
		select {
		case <-lr.done:
			return
		case <-ctx.Done():
			return
		default:
		}
		d, ok := lr.reader.Next()
		progress()
		if !ok {
			break
		}
		cur.dossiers = append(cur.dossiers, d)
		cur.faulty = cur.faulty || lr.reader.Faults() > 0
		if len(cur.dossiers) == opts.lot && !send() {
			return
		}
	}
	cur.faulty = cur.faulty || lr.reader.Faults() > 0
	if len(cur.dossiers) > 0 {
		send()
	}
}

// importRow is the row of aglae.dossier of a dossier, in the order of
// dossierTableColumns.
func importRow(d *extract.Dossier, empreinte string) []any {
	row := []any{
		d.NumeroDossier, d.Identifiant, int16(d.Annee), d.Academie, string(d.Etat),
		nil, nil, nil, nil, nil, nil, nil, nil, nil,
		empreinte,
	}
	if dec := d.Decision; dec != nil {
		row[5] = string(dec.Nature)
		row[6] = dec.Echelon
		row[7] = dec.MontantAnnuel
		row[8] = dec.Bareme
		row[9] = dateOnly(dec.Date)
		row[10] = dec.SousReserveProgression
		row[11] = dec.ProgressionVerified
		row[12] = dec.PointsCharge
		row[13] = dec.PointsDistance
	}
	return row
}

// identite is a hash of a line's identity (nom, prenom, dateNaissance):
// lines of one identifier must agree on it.
func identite(d *extract.Dossier) int64 {
	h := fnv.New64a()
	var b []byte
	b = strconv.AppendQuote(b, d.Nom)
	b = strconv.AppendQuote(b, d.Prenom)
	b = d.DateNaissance.AppendFormat(b, time.DateOnly)
	h.Write(b)
	return int64(h.Sum64())
}

// fingerprint is the fingerprint of what the import stores of a dossier
// (vœux and missing documents included, the student's identity aside: it
// lives in aglae.etudiant): equal for equal dossiers, whatever the line's
// layout. Computed here, on the reader's core, rather than by PostgreSQL.
func fingerprint(d *extract.Dossier, buf *[]byte) string {
	h := fnv.New128a()
	b := (*buf)[:0]
	defer func() { *buf = b }() // the next dossier reuses the buffer
	str := func(s string) { b = appendQuoted(b, s); b = append(b, 0) }
	num := func(n int) { b = strconv.AppendInt(b, int64(n), 10); b = append(b, 0) }
	str(d.Identifiant)
	num(d.Annee)
	str(d.Academie)
	str(string(d.Etat))
	if dec := d.Decision; dec != nil {
		str(string(dec.Nature))
		str(deref(dec.Echelon))
		if dec.MontantAnnuel != nil {
			b = strconv.AppendFloat(b, *dec.MontantAnnuel, 'f', 2, 64)
		}
		b = append(b, 0)
		num(derefInt(dec.Bareme, -1))
		str(dec.Date.Format(time.DateOnly))
		str(strconv.FormatBool(dec.SousReserveProgression))
		str(strconv.FormatBool(dec.ProgressionVerified))
		num(derefInt(dec.PointsCharge, -1))
		num(derefInt(dec.PointsDistance, -1))
	} else {
		str("-")
	}
	num(len(d.Pieces))
	for _, p := range d.Pieces {
		str(p)
	}
	num(len(d.Voeux))
	for _, v := range d.Voeux {
		num(v.Rang)
		str(v.Academie)
		str(v.UAI)
		str(v.Etablissement)
		str(v.Formation)
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func deref(p *string) string {
	if p == nil {
		return "-"
	}
	return *p
}

func derefInt(p *int, none int) int {
	if p == nil {
		return none
	}
	return *p
}

// appendQuoted is strconv.AppendQuote, quicker for the printable ASCII
// strings most fields are (the fingerprints of stored dossiers depend on
// its output staying the same).
func appendQuoted(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
