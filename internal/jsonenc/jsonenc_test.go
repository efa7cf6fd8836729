package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/jsonenc"
)

func TestAppendStringIsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "BOULET", "Élodie N'Diaye-Lefèvre", `a"b\c`, "tab\tnl\ncr\r\b\f\x00\x1f",
		"<script>&amp;</script>", "\u2028\u2029", "bad \xff utf8", "日本語", "\x7f"} {
		for _, html := range []bool{true, false} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			got := jsonenc.AppendString(nil, s, html)
			if string(got)+"\n" != want.String() {
				t.Errorf("%q html=%v:\n got %s\nwant %s", s, html, got, want.String())
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("Élodie <&> \u2028 \xff")
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		if err := enc.Encode(s); err != nil {
			t.Skip()
		}
		if got := jsonenc.AppendString(nil, s, true); string(got)+"\n" != want.String() {
			t.Errorf("%q: got %s want %s", s, got, want.String())
		}
	})
}
