package extract_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/extract"
)

// testdataLines returns the lines of the repository's
// testdata/extract.jsonl.
func testdataLines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "extract.jsonl"))
	require.NoError(t, err)
	var out []string
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimRight(l, "\r\n"); l != "" {
			out = append(out, l)
		}
	}
	require.Len(t, out, 20)
	return out
}

// valid returns baseLine filed in the académie acad (a valid line whose
// dossier number is "2014" + acad + "1111037734L").
func valid(t testing.TB, acad string) string {
	t.Helper()
	x := base(t)
	x.Academie = acad
	x.NumeroDossier = "2014" + acad + "1111037734L"
	return jsonLine(t, x)
}

// reading is everything a Reader gave for one input.
type reading struct {
	dossiers []extract.Dossier
	faults   []extract.Fault
	l        *extract.Reader
}

func (r reading) numbers() []string {
	out := []string{}
	for _, d := range r.dossiers {
		out = append(out, d.NumeroDossier)
	}
	return out
}

func (r reading) lines() []int {
	out := []int{}
	for _, d := range r.dossiers {
		out = append(out, d.Line)
	}
	return out
}

// readAll reads r to the end.
func readAll(t testing.TB, r io.Reader) reading {
	t.Helper()
	var res reading
	res.l = extract.NewReader(r, func(f extract.Fault) { res.faults = append(res.faults, f) })
	for {
		d, ok := res.l.Next()
		if !ok {
			break
		}
		res.dossiers = append(res.dossiers, d)
		require.Less(t, len(res.dossiers), 1<<20, "the reader does not stop")
	}
	return res
}

func readString(t testing.TB, s string) reading {
	t.Helper()
	return readAll(t, strings.NewReader(s))
}

// fault is the expected fault: its line, field and a substring of its
// reason.
type fault struct {
	line   int
	field  string
	raison string
}

func assertFaults(t *testing.T, want []fault, got []extract.Fault) {
	t.Helper()
	require.Len(t, got, len(want), "faults: %v", got)
	for i, w := range want {
		assert.Equal(t, w.line, got[i].Line, "fault %d: %v", i, got[i])
		assert.Equal(t, w.field, got[i].Field, "fault %d: %v", i, got[i])
		assert.Contains(t, got[i].Raison, w.raison, "fault %d: %v", i, got[i])
	}
}

func TestReader(t *testing.T) {
	mon, par, ver, lyo := valid(t, "MON"), valid(t, "PAR"), valid(t, "VER"), valid(t, "LYO")

	t.Run("mélange de lignes valides et fautives", func(t *testing.T) {
		echelonNumber := strings.Replace(valid(t, "AIX"), `"echelon":"1"`, `"echelon":1`, 1)
		inconnu := strings.Replace(valid(t, "NCY"), `{"numeroDossier"`, `{"couleur":"bleu","numeroDossier"`, 1)
		utf8Invalid := strings.Replace(valid(t, "REN"), "BOULET", "BOU\xffLET", 1)
		unknownEtat := strings.Replace(valid(t, "NTE"), `"etat":"VALIDE"`, `"etat":"ACCEPTE"`, 1)
		in := strings.Join([]string{
			mon,                 // 1
			`{"numeroDossier":`, // 2 malformed
			``,                  // 3 blank
			par + "\r",          // 4 CRLF
			echelonNumber,       // 5 wrong type
			inconnu,             // 6 unknown field
			ver + ` {}`,         // 7 trailing data
			utf8Invalid,         // 8 invalid UTF-8
			unknownEtat,         // 9 invalid content
			`   `,               // 10 blank
			lyo,                 // 11, no end of line
		}, "\n")
		r := readString(t, in)
		assert.Equal(t, []string{"2014MON1111037734L", "2014PAR1111037734L", "2014LYO1111037734L"}, r.numbers())
		assert.Equal(t, []int{1, 4, 11}, r.lines())
		assertFaults(t, []fault{
			{2, "", "malformed JSON"},
			{5, "decision.echelon", "expected a string, got JSON number"},
			{6, "couleur", "unknown field"},
			{7, "", "unexpected data after the JSON object"},
			{8, "", "invalid UTF-8"},
			{9, "etat", "must be one of"},
		}, r.faults)
		assert.Equal(t, 6, r.l.Faults())
		assert.NoError(t, r.l.Err())
	})

	t.Run("JSON mal formé", func(t *testing.T) {
		for _, tt := range []struct{ in, raison string }{
			{`{"numeroDossier":`, "malformed JSON"},
			{`{"nom":}`, "malformed JSON"},
			{`{"nom":"BOULET",}`, "malformed JSON"},
			{`{'nom':'BOULET'}`, "malformed JSON"},
			{`nom`, "malformed JSON"},
			{`{`, "malformed JSON"},
			{`[]`, "expected an object, got JSON array"},
			{`"2014MON1111037734L"`, "expected an object, got JSON string"},
			{`42`, "expected an object, got JSON number"},
		} {
			t.Run(tt.in, func(t *testing.T) {
				r := readString(t, mon+"\n"+tt.in+"\n"+par+"\n")
				assert.Equal(t, []int{1, 3}, r.lines())
				assertFaults(t, []fault{{2, "", tt.raison}}, r.faults)
			})
		}
	})

	t.Run("type faux: chemin du champ", func(t *testing.T) {
		for _, tt := range []struct{ before, after, field, raison string }{
			{`"echelon":"1"`, `"echelon":1`, "decision.echelon", "expected a string, got JSON number"},
			{`"anneeUniversitaire":2014`, `"anneeUniversitaire":"2014"`, "anneeUniversitaire", "expected an integer, got JSON string"},
			{`"anneeUniversitaire":2014`, `"anneeUniversitaire":2014.5`, "anneeUniversitaire", "expected an integer"},
			{`"montantAnnuel":1653`, `"montantAnnuel":"1653"`, "decision.montantAnnuel", "expected a number, got JSON string"},
			{`"bareme":2013`, `"bareme":"2013"`, "decision.bareme", "expected an integer"},
			{`"progressionVerifiee":false`, `"progressionVerifiee":"non"`, "decision.progressionVerifiee", "expected true or false"},
			{`"nom":"BOULET"`, `"nom":42`, "nom", "expected a string, got JSON number"},
			{`"piecesManquantes":[]`, `"piecesManquantes":"RIB"`, "piecesManquantes", "expected an array, got JSON string"},
			{`"piecesManquantes":[]`, `"piecesManquantes":[1]`, "piecesManquantes[0]", "expected a string"},
			{`"decision":{`, `"decision":true,"x":{`, "decision", "expected an object, got JSON bool"},
		} {
			t.Run(tt.field+" "+tt.after, func(t *testing.T) {
				line := strings.Replace(mon, tt.before, tt.after, 1)
				require.NotEqual(t, mon, line)
				r := readString(t, par+"\n"+line+"\n")
				assert.Equal(t, []int{1}, r.lines())
				assertFaults(t, []fault{{2, tt.field, tt.raison}}, r.faults)
			})
		}
		t.Run("voeux.rang", func(t *testing.T) {
			// encoding/json gives "voeux.rang", without the index that
			// Validate puts in its own paths ("voeux[0].rang").
			r := readString(t, strings.Replace(mon, `"rang":1`, `"rang":"1"`, 1))
			require.Len(t, r.faults, 1)
			assert.Contains(t, r.faults[0].Field, "voeux")
			assert.Contains(t, r.faults[0].Field, "rang")
		})
	})

	t.Run("champ inconnu", func(t *testing.T) {
		r := readString(t, strings.Replace(mon, `"etat"`, `"statut":"BOURSIER","etat"`, 1)+"\n")
		assert.Empty(t, r.dossiers)
		assertFaults(t, []fault{{1, "statut", "unknown field"}}, r.faults)
	})

	t.Run("champ inconnu imbriqué: chemin JSON complet", func(t *testing.T) {
		// Faute.Champ is documented as "JSON path of the field", and a type
		// error in the decision is reported as "decision.echelon": an
		// unknown field of the decision should be "decision.couleur".
		r := readString(t, strings.Replace(mon, `"nature"`, `"couleur":"bleu","nature"`, 1)+"\n")
		assert.Empty(t, r.dossiers)
		assertFaults(t, []fault{{1, "decision.couleur", "unknown field"}}, r.faults)
	})

	t.Run("données après l'objet", func(t *testing.T) {
		for _, suite := range []string{` {}`, `{}`, `x`, `]`, `}`, `,`, ` null`, ` "a"`, ` 1`} {
			t.Run(suite, func(t *testing.T) {
				r := readString(t, mon+suite+"\n"+par+"\n")
				assert.Equal(t, []int{2}, r.lines())
				assertFaults(t, []fault{{1, "", "unexpected data after the JSON object"}}, r.faults)
			})
		}
		t.Run("espaces finaux acceptés", func(t *testing.T) {
			r := readString(t, mon+" \t \n")
			assert.Equal(t, []int{1}, r.lines())
			assert.Empty(t, r.faults)
		})
	})

	t.Run("UTF-8 invalide", func(t *testing.T) {
		for _, bad := range []string{"\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf"} {
			line := strings.Replace(mon, "Amandine", "Aman"+bad+"dine", 1)
			r := readString(t, line+"\n"+par+"\n")
			assert.Equal(t, []int{2}, r.lines(), "%q", bad)
			assertFaults(t, []fault{{1, "", "invalid UTF-8"}}, r.faults)
		}
	})

	t.Run("lignes blanches sautées mais comptées", func(t *testing.T) {
		r := readString(t, "\n"+mon+"\n\n \t \n\r\n"+par+"\n\n")
		assert.Equal(t, []int{2, 6}, r.lines())
		assert.Empty(t, r.faults)
	})

	t.Run("CRLF", func(t *testing.T) {
		r := readString(t, mon+"\r\n\r\n"+par+"\r\n"+"{\r\n"+ver+"\r\n")
		assert.Equal(t, []string{"2014MON1111037734L", "2014PAR1111037734L", "2014VER1111037734L"}, r.numbers())
		assert.Equal(t, []int{1, 3, 5}, r.lines())
		assertFaults(t, []fault{{4, "", "malformed JSON"}}, r.faults)
		// The CR does not end up in the values.
		assert.Equal(t, "Diplômes de santé, 1re année", r.dossiers[2].Voeux[0].Formation)
	})

	t.Run("dernière ligne sans fin de ligne", func(t *testing.T) {
		r := readString(t, mon+"\n"+par)
		assert.Equal(t, []int{1, 2}, r.lines())
		assert.Empty(t, r.faults)

		r = readString(t, mon+"\n"+`{"nom":`)
		assert.Equal(t, []int{1}, r.lines())
		assertFaults(t, []fault{{2, "", "not closed"}}, r.faults)
	})

	t.Run("ligne trop longue", func(t *testing.T) {
		long := `{"nom":"` + strings.Repeat("A", extract.MaxLine) + `"}`
		r := readString(t, mon+"\n"+long+"\n"+par+"\n"+ver+"\n")
		assert.Equal(t, []int{1, 3, 4}, r.lines())
		assertFaults(t, []fault{{2, "", "longer than 1048576 bytes"}}, r.faults)
		assert.Equal(t, 1, r.l.Faults())
		assert.NoError(t, r.l.Err())

		// Several in a row, and one at the end without end of line.
		r = readString(t, long+"\n"+long+"\r\n"+mon+"\n"+long)
		assert.Equal(t, []int{3}, r.lines())
		assertFaults(t, []fault{
			{1, "", "longer than"}, {2, "", "longer than"}, {4, "", "longer than"},
		}, r.faults)
		assert.NoError(t, r.l.Err())

		// One byte too many.
		pad := func(n int) string { return mon + strings.Repeat(" ", n-len(mon)) }
		r = readString(t, pad(extract.MaxLine+1)+"\n"+par+"\n")
		assert.Equal(t, []int{2}, r.lines())
		assertFaults(t, []fault{{1, "", "longer than"}}, r.faults)
	})

	t.Run("ligne de MaxLigne octets acceptée", func(t *testing.T) {
		// MaxLine is "the longest line the reader accepts": a line of
		// exactly MaxLine bytes, followed by its end of line, must be read.
		pad := func(n int) string { return mon + strings.Repeat(" ", n-len(mon)) }
		for _, eol := range []string{"\n", "\r\n", ""} {
			r := readString(t, pad(extract.MaxLine)+eol)
			assert.Equal(t, []int{1}, r.lines(), "end of line %q", eol)
			assert.Empty(t, r.faults, "end of line %q", eol)
		}
	})

	t.Run("entrée vide", func(t *testing.T) {
		for _, in := range []string{"", "\n", "\n\n \r\n"} {
			r := readString(t, in)
			assert.Empty(t, r.dossiers, "%q", in)
			assert.Empty(t, r.faults, "%q", in)
			assert.Zero(t, r.l.Faults(), "%q", in)
			assert.NoError(t, r.l.Err(), "%q", in)
		}
	})

	t.Run("Lignes compte les lignes de l'entrée", func(t *testing.T) {
		// "Lignes is the number of lines read so far, blank lines
		// included": the import reports it to the user.
		for _, tt := range []struct {
			in   string
			want int
		}{
			{"", 0},
			{"\n", 1},
			{mon, 1},
			{mon + "\n", 1},
			{mon + "\n\n" + par, 3},
			{mon + "\r\n{\r\n" + par + "\r\n", 3},
			{strings.Join(testdataLines(t), "\n") + "\n", 20},
		} {
			r := readString(t, tt.in)
			assert.Equal(t, tt.want, r.l.Lines(), "%.40q", tt.in)
			// Asking again at the end changes nothing.
			_, ok := r.l.Next()
			assert.False(t, ok)
			assert.Equal(t, tt.want, r.l.Lines(), "%.40q, after one more Suivant", tt.in)
		}
	})

	t.Run("erreur de lecture", func(t *testing.T) {
		boom := errors.New("disque arraché")
		r := readAll(t, io.MultiReader(strings.NewReader(mon+"\n"+par+"\n"), iotest.ErrReader(boom)))
		assert.Equal(t, []int{1, 2}, r.lines())
		assert.Empty(t, r.faults)
		assert.ErrorIs(t, r.l.Err(), boom)
		_, ok := r.l.Next()
		assert.False(t, ok)
		assert.ErrorIs(t, r.l.Err(), boom)

		// An error in the middle of a line.
		r = readAll(t, io.MultiReader(strings.NewReader(mon+"\n"+par[:20]), iotest.ErrReader(boom)))
		assert.Equal(t, []int{1}, r.lines())
		assert.ErrorIs(t, r.l.Err(), boom)
	})

	t.Run("lecteur lent, un octet à la fois", func(t *testing.T) {
		r := readAll(t, iotest.OneByteReader(strings.NewReader(mon+"\n\n{\n"+par)))
		assert.Equal(t, []int{1, 4}, r.lines())
		assertFaults(t, []fault{{3, "", "malformed JSON"}}, r.faults)
	})

	t.Run("sans fonction faute", func(t *testing.T) {
		l := extract.NewReader(strings.NewReader("{\n"+mon+"\nx\n"), nil)
		d, ok := l.Next()
		require.True(t, ok)
		assert.Equal(t, 2, d.Line)
		_, ok = l.Next()
		assert.False(t, ok)
		assert.Equal(t, 2, l.Faults())
	})

	t.Run("testdata/extract.jsonl", func(t *testing.T) {
		lines := testdataLines(t)
		r := readString(t, strings.Join(lines, "\n")+"\n")
		assert.Empty(t, r.faults)
		require.Len(t, r.dossiers, 20)
		for i, d := range r.dossiers {
			assert.Equal(t, i+1, d.Line)
		}
	})

	t.Run("Faute.String", func(t *testing.T) {
		assert.Equal(t, "line 3: nom: required", extract.Fault{Line: 3, Field: "nom", Raison: "required"}.String())
		assert.Equal(t, "line 4: invalid UTF-8", extract.Fault{Line: 4, Raison: "invalid UTF-8"}.String())
	})
}

// lineOf rebuilds the line a valid dossier came from, in normalised form.
func lineOf(d extract.Dossier) extract.Line {
	x := extract.Line{
		NumeroDossier:      d.NumeroDossier,
		AnneeUniversitaire: d.Annee,
		Academie:           d.Academie,
		Identifiant:        d.Identifiant,
		Nom:                d.Nom,
		Prenom:             d.Prenom,
		DateNaissance:      d.DateNaissance.Format(time.DateOnly),
		Etat:               string(d.Etat),
		PiecesManquantes:   d.Pieces,
		Voeux:              d.Voeux,
	}
	if dv := d.Decision; dv != nil {
		x.Decision = &extract.Decision{
			Nature:                 string(dv.Nature),
			Echelon:                dv.Echelon,
			MontantAnnuel:          dv.MontantAnnuel,
			Bareme:                 dv.Bareme,
			Date:                   dv.Date.Format(time.DateOnly),
			SousReserveProgression: dv.SousReserveProgression,
			ProgressionVerified:    dv.ProgressionVerified,
			PointsCharge:           dv.PointsCharge,
			PointsDistance:         dv.PointsDistance,
		}
	}
	return x
}

func FuzzReader(f *testing.F) {
	lines := testdataLines(f)
	for _, l := range lines {
		f.Add([]byte(l + "\n"))
	}
	all := strings.Join(lines, "\n")
	f.Add([]byte(all))
	f.Add([]byte(strings.ReplaceAll(all, "\n", "\r\n\n")))
	f.Add([]byte(""))
	f.Add([]byte("\n\n\r\n"))
	f.Add([]byte("{"))
	f.Add([]byte(`{"numeroDossier":`))
	f.Add([]byte("null\n[]\n42\n\"x\"\n{}"))
	f.Add([]byte(lines[0] + " {}\n" + lines[1] + "x"))
	f.Add([]byte(strings.Replace(lines[0], "BOULET", "BOU\xffLET", 1)))
	f.Add([]byte(strings.Replace(lines[0], `"echelon":"1"`, `"echelon":1`, 1)))
	f.Add([]byte(strings.Replace(lines[0], `"nature"`, `"couleur":1,"nature"`, 1)))
	f.Add([]byte(strings.Replace(lines[0], `"etat":"VALIDE"`, `"etat":"NON_TRAITE"`, 1)))
	f.Add([]byte(strings.Replace(lines[0], `"montantAnnuel":1653.0`, `"montantAnnuel":1e308`, 1)))
	f.Add([]byte(strings.Replace(lines[0], `"nom":"BOULET"`, `"nom":"  ba\u0301\u00e0-'  "`, 1)))
	f.Add([]byte(strings.Replace(lines[0], `"numeroDossier":"2014MON1111037734L"`, `"numeroDossier":" 2014 mon 1111037734l"`, 1)))

	f.Fuzz(func(t *testing.T, data []byte) {
		var faults []extract.Fault
		l := extract.NewReader(bytes.NewReader(data), func(f extract.Fault) { faults = append(faults, f) })
		var dossiers []extract.Dossier
		for {
			d, ok := l.Next()
			if !ok {
				break
			}
			dossiers = append(dossiers, d)
			if len(dossiers) > len(data) {
				t.Fatalf("more dossiers (%d) than bytes (%d)", len(dossiers), len(data))
			}
		}
		require.NoError(t, l.Err())
		require.Equal(t, len(faults), l.Faults())
		maxLine := bytes.Count(data, []byte("\n")) + 1
		for _, f := range faults {
			require.GreaterOrEqual(t, f.Line, 1, "%v", f)
			require.LessOrEqual(t, f.Line, l.Lines(), "%v", f)
			require.LessOrEqual(t, f.Line, maxLine, "%v", f)
			require.NotEmpty(t, f.Raison, "%v", f)
		}
		prev := 0
		for _, d := range dossiers {
			require.Greater(t, d.Line, prev, "dossiers in line order")
			prev = d.Line
			require.LessOrEqual(t, d.Line, l.Lines())
			require.LessOrEqual(t, d.Line, maxLine)
			require.NotEmpty(t, d.NumeroDossier)
			require.NotEmpty(t, d.Identifiant)
			require.NotEmpty(t, d.Etat)
			for _, f := range faults {
				require.NotEqual(t, d.Line, f.Line, "a line gives a dossier or faults, not both: %v", f)
			}
			// A valid dossier, written back in normalised form, is valid
			// and unchanged.
			d2, fs := extract.Validate(d.Line, lineOf(d))
			require.Empty(t, fs, "re-validation of line %d", d.Line)
			require.Equal(t, d, d2)
		}
	})
}

// BenchmarkReader reads an extract of 10,000 lines (the 20 lines of
// testdata/extract.jsonl, repeated).
func BenchmarkReader(b *testing.B) {
	const n = 10_000
	lines := testdataLines(b)
	var buf bytes.Buffer
	for i := range n {
		buf.WriteString(lines[i%len(lines)])
		buf.WriteByte('\n')
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for b.Loop() {
		l := extract.NewReader(bytes.NewReader(data), func(f extract.Fault) { b.Fatal(f) })
		k := 0
		for {
			if _, ok := l.Next(); !ok {
				break
			}
			k++
		}
		if k != n {
			b.Fatalf("%d dossiers, want %d", k, n)
		}
	}
	runtime.ReadMemStats(&m1)
	lineCount := float64(b.N) * n
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/lineCount, "ns/line")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/lineCount, "allocs/line")
}
