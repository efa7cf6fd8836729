package rest_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/rest"
)

// The hand-written encoders write what encoding/json writes.

var awkward = []string{
	"", "1111037734L", `"quoted" \back\slash/`, "<script>&amp;</script>", "tab\tnew\nline\rcr\bbs\fff",
	"\x00\x01\x1f\x7f", "N\u2019Diaye Éloïse", "\u2028\u2029", "bad \xff\xfe utf-8 \xc3", "emoji 😀", "\xed\xa0\x80",
}

func TestAppendReponseIsJSONMarshal(t *testing.T) {
	for _, s := range awkward {
		for _, r := range []rest.Reponse{
			{AnneeUniversitaire: 2025, Statut: "INCONNU"},
			{Identifiant: s, AnneeUniversitaire: -1, Statut: s, TypeDecision: s, Echelon: s, NumeroDossier: s,
				Correspondance: s, IdentifiantAglae: s, Anomalie: s},
		} {
			want, err := json.Marshal(r)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(rest.AppendReponse(nil, r)), "%q", s)
		}
	}
}

func TestAppendProblemIsJSONMarshal(t *testing.T) {
	type problem struct {
		Type     string `json:"type"`
		Title    string `json:"title"`
		Status   int    `json:"status"`
		Detail   string `json:"detail"`
		Instance string `json:"instance,omitempty"`
	}
	for _, s := range awkward {
		p := problem{"urn:x", "T", 400, s, s}
		want, err := json.Marshal(p)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(rest.AppendProblem(nil, p.Type, p.Title, p.Status, p.Detail, p.Instance)), "%q", s)
	}
}

func FuzzAppendReponse(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, 2025)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		r := rest.Reponse{Identifiant: s, AnneeUniversitaire: n, Statut: s, Anomalie: s}
		want, err := json.Marshal(r)
		require.NoError(t, err)
		require.Equal(t, string(want), string(rest.AppendReponse(nil, r)))
	})
}
