package suivi

import (
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/web"
)

// TestNegocier checks the choice of JSON or CSV from the Accept header.
func TestNegocier(t *testing.T) {
	tests := []struct {
		name   string
		accept []string
		want   string // "" for 406
	}{
		{"no header", nil, FormatJSON},
		{"json", []string{"application/json"}, FormatJSON},
		{"csv", []string{"text/csv"}, FormatCSV},
		{"csv with charset", []string{"text/csv; charset=utf-8"}, FormatCSV},
		{"anything", []string{"*/*"}, FormatJSON},
		{"a browser", []string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, FormatJSON},
		{"csv preferred", []string{"application/json;q=0.5, text/csv"}, FormatCSV},
		{"json preferred", []string{"text/csv;q=0.4, application/json;q=0.9"}, FormatJSON},
		{"tie: the type named outright wins over a wildcard", []string{"*/*, text/csv"}, FormatCSV},
		{"tie between named types: the first", []string{"text/csv, application/json"}, FormatCSV},
		{"text wildcard", []string{"text/*"}, FormatCSV},
		{"two headers", []string{"application/xml", "text/csv"}, FormatCSV},
		{"csv refused", []string{"text/csv;q=0"}, ""},
		{"only xml", []string{"application/xml"}, ""},
		{"problem json only", []string{"application/problem+json"}, ""},
		{"malformed q ignored", []string{"text/csv;q=abc, application/json"}, FormatJSON},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := negocier(tc.accept)
			if tc.want == "" {
				k, _ := web.Classify(err)
				if err == nil || k != web.NotAcceptable {
					t.Fatalf("negocier(%q) = %q, %v; want a NotAcceptable error", tc.accept, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("negocier(%q) = %q, %v; want %q", tc.accept, got, err, tc.want)
			}
		})
	}
}
