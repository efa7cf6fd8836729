package extract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// MaxLine is the longest line the reader accepts, in bytes.
const MaxLine = 1 << 20

// Faute is one fault of the extract: the line, the field and the reason.
type Fault struct {
	Line   int
	Field  string // JSON path of the field, "" for the line as a whole
	Raison string
}

func (f Fault) String() string {
	if f.Field == "" {
		return fmt.Sprintf("line %d: %s", f.Line, f.Raison)
	}
	return fmt.Sprintf("line %d: %s: %s", f.Line, f.Field, f.Raison)
}

// Reader streams an extract: it decodes and validates one line at a time
// and hands out the valid dossiers, reporting each fault as it meets it.
// Its memory does not grow with the size of the extract.
type Reader struct {
	r      *bufio.Reader
	fault  func(Fault)
	lines  int
	faults int
	err    error
}

// NewReader returns a reader of the extract r that calls fault for every
// fault found.
func NewReader(r io.Reader, fault func(Fault)) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), fault: fault}
}

// Lignes is the number of lines read so far, blank lines included.
func (l *Reader) Lines() int { return l.lines }

// Fautes is the number of faults found so far.
func (l *Reader) Faults() int { return l.faults }

// Err is the read error that stopped the reader, if any (not a fault of the
// extract's content).
func (l *Reader) Err() error { return l.err }

// Suivant returns the next valid dossier, skipping (and reporting) invalid
// lines; ok is false at the end of the extract or on a read error.
func (l *Reader) Next() (d Dossier, ok bool) {
	for l.err == nil {
		line, err := l.read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				l.err = err
			}
			return Dossier{}, false
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		v := validator{line: l.lines}
		d := v.line_(line)
		if len(v.faults) > 0 {
			for _, f := range v.faults {
				l.faults++
				if l.fault != nil {
					l.fault(f)
				}
			}
			continue
		}
		return d, true
	}
	return Dossier{}, false
}

// read returns the next line without its end of line. A line longer than
// MaxLine is reported as a fault and skipped (returned as a blank line).
// A UTF-8 byte order mark at the start of the extract is dropped.
func (l *Reader) read() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	var long []byte
	for errors.Is(err, bufio.ErrBufferFull) {
		if len(long) <= MaxLine+2 {
			long = append(long, line...)
		}
		line, err = l.r.ReadSlice('\n')
	}
	if long != nil && len(long) <= MaxLine+2 {
		line = append(long, line...)
	}
	if len(line) == 0 && long == nil {
		if err == nil {
			err = io.EOF
		}
		return nil, err // nothing more: not a line
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	l.lines++
	if l.lines == 1 {
		line = bytes.TrimPrefix(line, bom)
	}
	if long != nil && len(long) > MaxLine+2 || len(bytes.TrimRight(line, "\r\n")) > MaxLine {
		l.faults++
		if l.fault != nil {
			l.fault(Fault{Line: l.lines, Raison: fmt.Sprintf("line longer than %d bytes", MaxLine)})
		}
		return nil, nil
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

var bom = []byte("\xef\xbb\xbf")

// strict is how lines are decoded: member names match exactly (no case
// folding), unknown and duplicated members are faults, invalid UTF-8 too.
var strict = json.JoinOptions(json.RejectUnknownMembers(true))

// decode decodes one line strictly, reporting the JSON path of the fault.
func (v *validator) decode(line []byte) (Line, bool) {
	var x Line
	if err := json.Unmarshal(line, &x, strict); err != nil {
		v.add(jsonField(err), "%s", jsonRaison(err))
		return x, false
	}
	return x, true
}

// jsonField is the path of the field at fault, as Validate names fields:
// decision.echelon, voeux[0].uai.
func jsonField(err error) string {
	// A syntax error is the line's as a whole; its reason gives the byte.
	var p jsontext.Pointer
	var se *json.SemanticError
	if errors.As(err, &se) {
		p = se.JSONPointer
	}
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func jsonRaison(err error) string {
	var se *json.SemanticError
	var sy *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		switch {
		case se.Err != nil && strings.Contains(se.Err.Error(), "unknown"):
			return "unknown field"
		case se.GoType != nil && se.JSONKind != 0:
			return fmt.Sprintf("expected %s, got JSON %s", goTypeName(se.GoType.String()), kindName(se.JSONKind))
		case se.Err != nil:
			return se.Err.Error()
		}
		return "invalid value"
	case errors.As(err, &sy) && sy.Err != nil && strings.Contains(sy.Err.Error(), "after top-level value"):
		return fmt.Sprintf("unexpected data after the JSON object (at byte %d)", sy.ByteOffset+1)
	case errors.As(err, &sy) && errors.Is(sy.Err, io.ErrUnexpectedEOF):
		return "malformed JSON: the object is not closed"
	case errors.As(err, &sy):
		msg := "malformed JSON"
		if sy.Err != nil {
			msg += ": " + sy.Err.Error()
		}
		return fmt.Sprintf("%s (at byte %d)", msg, sy.ByteOffset+1)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the object is not closed"
	}
	return "malformed JSON: " + err.Error()
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

func goTypeName(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case t == "string":
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
