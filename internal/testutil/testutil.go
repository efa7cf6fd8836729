// Package testutil holds the test helpers the packages share: the
// repository's test data (testdata/, the lookups of cases.json and their
// expected answers), the conversion of a SOAP answer to the form
// cases.json uses, and a settable clock. What needs a database is in
// package pgtest.
package testutil

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
)

// Testdata is the path of elem in the repository's testdata folder.
func Testdata(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "..", "testdata"}, elem...)...)
}

// Case is one lookup of testdata/cases.json and its expected answer, with
// the SPEC §3 field names.
type Case struct {
	Name   string       `json:"name"`
	Saisie Saisie       `json:"saisie"`
	Want   rest.Reponse `json:"want"`
}

// Saisie is a lookup as it travels in cases.json; it converts to a
// bourse.Saisie.
type Saisie struct {
	Identifiant       string `json:"identifiant,omitempty"`
	CodeEtablissement string `json:"codeEtablissement,omitempty"`
	Annee             int    `json:"anneeUniversitaire,omitempty"`
	Nom               string `json:"nom,omitempty"`
	Prenom            string `json:"prenom,omitempty"`
	DateNaissance     string `json:"dateNaissance,omitempty"`
}

// LoadCases reads testdata/cases.json: the lookups every face must answer
// as it says over testdata/extract.jsonl.
func LoadCases(t testing.TB) []Case {
	t.Helper()
	b, err := os.ReadFile(Testdata("cases.json"))
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	var cs []Case
	if err := json.Unmarshal(b, &cs); err != nil {
		t.Fatalf("testutil: cases.json: %v", err)
	}
	if len(cs) == 0 {
		t.Fatal("testutil: cases.json holds no case")
	}
	return cs
}

// FromSOAP converts a SOAP answer (a single lookup's or a batch item's) to
// the form cases.json uses.
func FromSOAP(r *wsconnecteur.ReponseBoursier) rest.Reponse {
	out := rest.Reponse{Identifiant: r.Identifiant, AnneeUniversitaire: int(r.AnneeUniversitaire),
		NumeroDossier: r.NumeroDossier, IdentifiantAglae: r.IdentifiantAglae}
	if r.Statut != nil {
		out.Statut = string(*r.Statut)
	}
	if r.TypeDecision != nil {
		out.TypeDecision = string(*r.TypeDecision)
	}
	if r.Echelon != nil {
		out.Echelon = string(*r.Echelon)
	}
	if r.Correspondance != nil {
		out.Correspondance = string(*r.Correspondance)
	}
	if r.Anomalie != nil {
		out.Anomalie = string(*r.Anomalie)
	}
	return out
}

// Clock is a test's clock: it reads the time it was set to and moves only
// when told. Its zero value reads the zero time.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
