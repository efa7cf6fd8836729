package extract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxLigne is the longest line the reader accepts, in bytes.
const MaxLigne = 1 << 20

// Faute is one fault of the extract: the line, the field and the reason.
type Faute struct {
	Ligne  int
	Champ  string // JSON path of the field, "" for the line as a whole
	Raison string
}

func (f Faute) String() string {
	if f.Champ == "" {
		return fmt.Sprintf("line %d: %s", f.Ligne, f.Raison)
	}
	return fmt.Sprintf("line %d: %s: %s", f.Ligne, f.Champ, f.Raison)
}

// Lecteur streams an extract: it decodes and validates one line at a time
// and hands out the valid dossiers, reporting each fault as it meets it.
// Its memory does not grow with the size of the extract.
type Lecteur struct {
	r      *bufio.Reader
	faute  func(Faute)
	lignes int
	fautes int
	err    error
}

// NewLecteur returns a reader of the extract r that calls faute for every
// fault found.
func NewLecteur(r io.Reader, faute func(Faute)) *Lecteur {
	return &Lecteur{r: bufio.NewReaderSize(r, 64<<10), faute: faute}
}

// Lignes is the number of lines read so far, blank lines included.
func (l *Lecteur) Lignes() int { return l.lignes }

// Fautes is the number of faults found so far.
func (l *Lecteur) Fautes() int { return l.fautes }

// Err is the read error that stopped the reader, if any (not a fault of the
// extract's content).
func (l *Lecteur) Err() error { return l.err }

// Suivant returns the next valid dossier, skipping (and reporting) invalid
// lines; ok is false at the end of the extract or on a read error.
func (l *Lecteur) Suivant() (d Dossier, ok bool) {
	for l.err == nil {
		line, err := l.lire()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				l.err = err
			}
			return Dossier{}, false
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v := validateur{ligne: l.lignes}
		d := v.ligne_(line)
		if len(v.fautes) > 0 {
			for _, f := range v.fautes {
				l.fautes++
				if l.faute != nil {
					l.faute(f)
				}
			}
			continue
		}
		return d, true
	}
	return Dossier{}, false
}

// lire returns the next line without its end of line. A line longer than
// MaxLigne is reported as a fault and skipped.
func (l *Lecteur) lire() ([]byte, error) {
	l.lignes++
	line, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		buf := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = l.r.ReadSlice('\n')
			if len(buf) <= MaxLigne {
				buf = append(buf, line...)
			}
		}
		if len(buf) > MaxLigne {
			l.fautes++
			if l.faute != nil {
				l.faute(Faute{Ligne: l.lignes, Raison: fmt.Sprintf("line longer than %d bytes", MaxLigne)})
			}
			if err != nil {
				return nil, err
			}
			return nil, nil // skipped: a blank line for the caller
		}
		line = buf
	}
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// decode decodes one line strictly: unknown fields, wrong types and trailing
// data are faults.
func (v *validateur) decode(line []byte) (Ligne, bool) {
	var x Ligne
	if !utf8.Valid(line) {
		v.add("", "invalid UTF-8")
		return x, false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&x); err != nil {
		v.add(jsonChamp(err), "%s", jsonRaison(err))
		return x, false
	}
	if dec.More() {
		v.add("", "unexpected data after the JSON object")
		return x, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		v.add("", "unexpected data after the JSON object")
		return x, false
	}
	return x, true
}

func jsonChamp(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
	}
	return ""
}

func jsonRaison(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("expected %s, got JSON %s", goTypeName(te.Type.String()), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: the object is not closed"
	default:
		return "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")
	}
}

func goTypeName(t string) string {
	switch {
	case t == "string", t == "*string":
		return "a string"
	case strings.Contains(t, "int"):
		return "an integer"
	case strings.Contains(t, "float"):
		return "a number"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	default:
		return "an object"
	}
}
