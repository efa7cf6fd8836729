package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// badRequest is a request the connector must refuse with a clear client
// error.
type badRequest struct {
	name   string
	rq     request
	status int
	kind   web.Kind
	detail string // a substring of the problem's detail
	allow  string // the Allow header of a 405
}

const post = http.MethodPost

func consultation(body string) request {
	return request{method: post, path: "/v1/consultations", body: body}
}

func batch(body string) request {
	return request{method: post, path: "/v1/consultations/lot", body: body}
}

// repeated is a JSON object of member repeated to fill most of the body
// limit: {"a":0,"a":0,…}.
func repeated(member string) string {
	var b strings.Builder
	b.WriteString("{" + member)
	for b.Len()+len(member)+2 < web.DefaultMaxBody {
		b.WriteString("," + member)
	}
	b.WriteString("}")
	return b.String()
}

func get(path string) request { return request{method: http.MethodGet, path: path} }

// catalogue lists bad requests, one per way of getting a lookup wrong.
var catalogue = []badRequest{
	// The body's syntax.
	{"malformed JSON", consultation(`{"identifiant": }`), 400, web.MalformedBody, "malformed JSON at offset 16: invalid character '}' at start of value", ""},
	{"truncated JSON", consultation(`{"identifiant":"1111037734L","anneeUnivers`), 400, web.MalformedBody, "offset 42: unexpected end of the body", ""},
	{"truncated after a value", consultation(`{"identifiant":"1111037734L"`), 400, web.MalformedBody, "unexpected end of the body: the JSON object is incomplete", ""},
	{"array instead of object", consultation(`[{"identifiant":"1111037734L"}]`), 400, web.MalformedBody, "must be a JSON object {...}, not an array", ""},
	{"string instead of object", consultation(`"1111037734L"`), 400, web.MalformedBody, "not a string", ""},
	{"null body", consultation(`null`), 400, web.MalformedBody, "not null", ""},
	{"trailing data", consultation(`{"identifiant":"1111037734L"} {"identifiant":"2000000011F"}`), 400, web.MalformedBody, "offset 30: unexpected data after the JSON object", ""},
	{"trailing comma", consultation(`{"identifiant":"1111037734L",}`), 400, web.MalformedBody, "offset 28: a comma before '}': remove the trailing comma", ""},
	{"single quotes", consultation(`{'identifiant':'1111037734L'}`), 400, web.MalformedBody, `offset 1: invalid character '\''`, ""},
	{"empty body", consultation(``), 400, web.MalformedBody, "the body is empty", ""},
	{"blank body", consultation(" \r\n "), 400, web.MalformedBody, "the body is empty", ""},
	{"invalid UTF-8", consultation("{\"identifiant\":\"1111037734L\",\"nom\":\"Bou\xe9let\",\"prenom\":\"A\",\"dateNaissance\":\"1996-11-28\"}"), 400, web.MalformedBody, "offset 39: invalid UTF-8", ""},
	{"byte order mark alone", consultation("\xef\xbb\xbf"), 400, web.MalformedBody, "only a byte order mark", ""},
	{"UTF-16 body", consultation("\xff\xfe{\x00}\x00"), 400, web.MalformedBody, "offset 0: invalid UTF-8", ""},
	{"unpaired surrogate", consultation(`{"identifiant":"1111037734L","nom":"\ud800x","prenom":"A","dateNaissance":"1996-11-28"}`), 400, web.MalformedBody, "offset 36: invalid surrogate pair", ""},
	{"raw control character", consultation("{\"identifiant\":\"1111037734L\x00\"}"), 400, web.MalformedBody, `offset 27: invalid character '\x00' in string`, ""},
	{"nested too deep", consultation(`{"nom":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`), 400, web.MalformedBody, "exceeded max depth", ""},
	{"64 KB of one unknown member repeated", consultation(repeated(`"a":0`)), 400, web.InvalidInput, `unknown field "a"; the accepted fields are`, ""},
	{"64 KB of one field repeated", consultation(repeated(`"nom":"x"`)), 400, web.InvalidInput, "nom: given more than once (at offset 11)", ""},
	{"oversize body", consultation(`{"nom":"` + strings.Repeat("A", web.DefaultMaxBody) + `"}`), 413, web.TooLarge, "larger than the limit of 65536 bytes", ""},

	// The batch's body follows the same rules.
	{"batch year 0", batch(`{"anneeUniversitaire":0,"identifiants":["2000000011F"]}`), 400, web.InvalidInput, "anneeUniversitaire: must be a year between 2000 and 2099", ""},
	{"batch year as a string", batch(`{"anneeUniversitaire":"2025","identifiants":["2000000011F"]}`), 400, web.InvalidInput, "(write 2025, without quotes)", ""},
	{"batch byte order mark alone", batch("\xef\xbb\xbf"), 400, web.MalformedBody, "only a byte order mark", ""},
	{"batch identifier as a number", batch(`{"identifiants":["2000000011F",2000000011]}`), 400, web.InvalidInput, "identifiants/1: must be a string, not a number", ""},
	{"batch mistyped field", batch(`{"identifiant":["2000000011F"]}`), 400, web.InvalidInput, `unknown field "identifiant": did you mean "identifiants"?`, ""},
	{"batch field given twice", batch(`{"identifiants":["2000000011F"],"identifiants":[]}`), 400, web.InvalidInput, "identifiants: given more than once", ""},
	{"batch 64 KB of one unknown member repeated", batch(repeated(`"a":0`)), 400, web.InvalidInput, `unknown field "a"`, ""},

	// The body's content type.
	{"wrong content type", request{method: post, path: "/v1/consultations", ct: "text/plain", body: `{"identifiant":"1111037734L"}`}, 415, web.UnsupportedMedia, `Content-Type "text/plain" is not supported`, ""},
	{"form content type", request{method: post, path: "/v1/consultations", ct: "application/x-www-form-urlencoded", body: `identifiant=1111037734L`}, 415, web.UnsupportedMedia, "send the body as application/json", ""},
	{"missing content type", request{method: post, path: "/v1/consultations", ct: "-", body: `{"identifiant":"1111037734L"}`}, 415, web.UnsupportedMedia, "the Content-Type header is missing", ""},
	{"latin-1 charset", request{method: post, path: "/v1/consultations", ct: "application/json; charset=iso-8859-1", body: `{"identifiant":"1111037734L"}`}, 415, web.UnsupportedMedia, `charset "iso-8859-1" is not supported`, ""},
	{"compressed body", request{method: post, path: "/v1/consultations", body: `{"identifiant":"1111037734L"}`, header: map[string]string{"Content-Encoding": "gzip"}}, 415, web.UnsupportedMedia, `Content-Encoding "gzip" is not supported`, ""},

	// The body's fields.
	{"unknown field", consultation(`{"identifiant":"1111037734L","telephone":"0601020304"}`), 400, web.InvalidInput, `unknown field "telephone"; the accepted fields are identifiant, anneeUniversitaire`, ""},
	{"mistyped field", consultation(`{"identifant":"1111037734L"}`), 400, web.InvalidInput, `unknown field "identifant": did you mean "identifiant"?`, ""},
	{"case-variant field", consultation(`{"Identifiant":"1111037734L"}`), 400, web.InvalidInput, `unknown field "Identifiant": field names are case-sensitive, did you mean "identifiant"?`, ""},
	{"snake-case field", consultation(`{"identifiant":"1111037734L","annee_universitaire":2014}`), 400, web.InvalidInput, `did you mean "anneeUniversitaire"?`, ""},
	{"synonym field", consultation(`{"ine":"1111037734L"}`), 400, web.InvalidInput, `unknown field "ine": did you mean "identifiant"?`, ""},
	{"field given twice", consultation(`{"identifiant":"1111037734L","identifiant":"2000000011F"}`), 400, web.InvalidInput, "identifiant: given more than once", ""},
	{"year as a string", consultation(`{"identifiant":"1111037734L","anneeUniversitaire":"2025"}`), 400, web.InvalidInput, "anneeUniversitaire: must be an integer (a year such as 2025), not a string (write 2025, without quotes)", ""},
	{"year with a fraction", consultation(`{"identifiant":"1111037734L","anneeUniversitaire":2025.5}`), 400, web.InvalidInput, "anneeUniversitaire: must be an integer (a year such as 2025), not 2025.5", ""},
	{"identifier as a number", consultation(`{"identifiant":1111037734}`), 400, web.InvalidInput, "identifiant: must be a string, not a number", ""},
	{"identity as an object", consultation(`{"nom":{"famille":"Boulet"},"prenom":"Amandine","dateNaissance":"1996-11-28"}`), 400, web.InvalidInput, "nom: must be a string, not an object", ""},
	{"missing identifier and identity", consultation(`{}`), 400, web.InvalidInput, "identifiant: required, unless the identity (nom, prenom, dateNaissance) is given", ""},
	{"only nulls", consultation(`{"identifiant":null,"anneeUniversitaire":null}`), 400, web.InvalidInput, "identifiant: required", ""},
	{"partial identity", consultation(`{"identifiant":"1111037734L","nom":"Boulet"}`), 400, web.InvalidInput, "the identity needs nom, prenom and dateNaissance together: prenom and dateNaissance missing", ""},
	{"bad dateNaissance", consultation(`{"nom":"Boulet","prenom":"Amandine","dateNaissance":"28/11/1996"}`), 400, web.InvalidInput, "dateNaissance: must be a date YYYY-MM-DD", ""},
	{"impossible dateNaissance", consultation(`{"nom":"Boulet","prenom":"Amandine","dateNaissance":"1996-02-30"}`), 400, web.InvalidInput, "dateNaissance: must be a date YYYY-MM-DD", ""},
	{"name without a letter", consultation(`{"nom":"--","prenom":"Amandine","dateNaissance":"1996-11-28"}`), 400, web.InvalidInput, "nom: must contain a letter", ""},
	{"control character in a name", consultation(`{"nom":"Bou\u0000let","prenom":"Amandine","dateNaissance":"1996-11-28"}`), 400, web.InvalidInput, "nom: contains a control character", ""},
	{"year 0", consultation(`{"identifiant":"1111037734L","anneeUniversitaire":0}`), 400, web.InvalidInput, "anneeUniversitaire: must be a year between 2000 and 2099", ""},
	{"year 99999 in the body", consultation(`{"identifiant":"1111037734L","anneeUniversitaire":99999}`), 400, web.InvalidInput, "anneeUniversitaire: must be a year between 2000 and 2099", ""},
	{"huge year", consultation(`{"identifiant":"1111037734L","anneeUniversitaire":123456789012345678901234567890}`), 400, web.InvalidInput, "anneeUniversitaire: must be a year between 2000 and 2099", ""},
	{"dossier number contradicting the year", consultation(`{"identifiant":"2014MON1111037734L","anneeUniversitaire":2015}`), 400, web.InvalidInput, "anneeUniversitaire: 2015 contradicts the year 2014 of the dossier number", ""},
	{"bad UAI key", consultation(`{"identifiant":"1111037734L","codeEtablissement":"0781944A"}`), 400, web.InvalidInput, "codeEtablissement: key:", ""},
	{"non-ASCII identifier in the body", consultation(`{"identifiant":"1111037734Ł"}`), 400, web.InvalidInput, "identifiant: ascii: character 11 is not ASCII", ""},
	{"SQL metacharacters in the body", consultation(`{"identifiant":"1111037734L' OR '1'='1"}`), 400, web.InvalidInput, "identifiant: length: must have 11 characters for an INE or 18 for a dossier number, got 20", ""},

	// The simple lookup's path and query.
	{"invalid key", get("/v1/boursiers/1111037734A"), 400, web.InvalidInput, "identifiant: key:", ""},
	{"bad length", get("/v1/boursiers/111103773"), 400, web.InvalidInput, "identifiant: length: must have 11 characters for an INE or 18 for a dossier number, got 9", ""},
	{"ten identical digits", get("/v1/boursiers/0000000000A"), 400, web.InvalidInput, "identifiant: identical-digits", ""},
	{"non-ASCII identifier", get("/v1/boursiers/1111037734%C5%81"), 400, web.InvalidInput, "identifiant: ascii: character 11 is not ASCII", ""},
	{"SQL metacharacters", get("/v1/boursiers/%27%20OR%201%3D1%20--"), 400, web.InvalidInput, "identifiant: ", ""},
	{"encoded slash", get("/v1/boursiers/1111037734%2FL"), 400, web.InvalidInput, "identifiant: ", ""},
	{"year 99999", get("/v1/boursiers/1111037734L?annee=99999"), 400, web.InvalidInput, "annee: must be a year between 2000 and 2099", ""},
	{"year abc", get("/v1/boursiers/1111037734L?annee=abc"), 400, web.InvalidInput, "annee: must be an integer (a year such as 2025)", ""},
	{"year 0000", get("/v1/boursiers/1111037734L?annee=0000"), 400, web.InvalidInput, "annee: must be a year between 2000 and 2099", ""},
	{"empty year", get("/v1/boursiers/1111037734L?annee="), 400, web.InvalidInput, "annee: must be an integer", ""},
	{"negative year", get("/v1/boursiers/1111037734L?annee=-2025"), 400, web.InvalidInput, "annee: must be an integer", ""},
	{"year given twice", get("/v1/boursiers/1111037734L?annee=2014&annee=2015"), 400, web.InvalidInput, "annee: given more than once", ""},
	{"unknown query parameter", get("/v1/boursiers/1111037734L?annee=2014&format=xml"), 400, web.InvalidInput, `unknown query parameter "format": the only one accepted is annee`, ""},
	{"body's year name in the query", get("/v1/boursiers/1111037734L?anneeUniversitaire=2014"), 400, web.InvalidInput, `unknown query parameter "anneeUniversitaire": did you mean "annee"?`, ""},
	{"identity in the URL", get("/v1/boursiers/1111037734L?nom=Boulet&prenom=Amandine"), 400, web.InvalidInput, "an identity never travels in a URL, POST it to /v1/consultations", ""},
	{"malformed query", get("/v1/boursiers/1111037734L?annee=%zz"), 400, web.InvalidInput, "the query string is malformed", ""},
	{"dossier number contradicting annee", get("/v1/boursiers/2014MON1111037734L?annee=2015"), 400, web.InvalidInput, "annee: 2015 contradicts the year 2014 of the dossier number", ""},
	{"bad académie in a dossier number", get("/v1/boursiers/20141231111037734L"), 400, web.InvalidInput, "identifiant: academie", ""},

	// Routes and methods.
	{"PUT on consultations", request{method: http.MethodPut, path: "/v1/consultations", body: `{"identifiant":"1111037734L"}`}, 405, web.MethodNotAllowed, "method PUT is not allowed on this resource; allowed: POST", "POST"},
	{"GET on consultations", get("/v1/consultations"), 405, web.MethodNotAllowed, "allowed: POST", "POST"},
	{"DELETE on a boursier", request{method: http.MethodDelete, path: "/v1/boursiers/x"}, 405, web.MethodNotAllowed, "method DELETE is not allowed on this resource; allowed: GET", "GET"},
	{"POST on a boursier", request{method: post, path: "/v1/boursiers/1111037734L", body: `{}`}, 405, web.MethodNotAllowed, "allowed: GET", "GET"},
	{"unknown route", get("/v2/boursiers/1111037734L"), 404, web.NotFound, "no resource at this path", ""},
	{"missing identifier", get("/v1/boursiers/"), 404, web.NotFound, "no resource at this path", ""},
	{"trailing slash", consultation(`{"identifiant":"1111037734L"}`).at("/v1/consultations/"), 404, web.NotFound, "no resource at this path", ""},
}

func (rq request) at(path string) request { rq.path = path; return rq }

func TestCatalogueOfBadRequests(t *testing.T) {
	require.GreaterOrEqual(t, len(catalogue), 25)
	h := newHarness(t)
	before := pgtest.Snapshot(t, h.pool)
	seen := map[string]bool{}
	for _, c := range catalogue {
		require.False(t, seen[c.name], "duplicate case %q", c.name)
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			resp := h.do(t, c.rq)
			require.Equal(t, c.status, resp.StatusCode, "%s", resp.body)
			assert.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500)
			p := problemOf(t, resp)
			assert.Equal(t, web.ProblemBase+c.kind.Type, p["type"])
			assert.Equal(t, c.kind.Title, p["title"])
			assert.Contains(t, p["detail"], c.detail)
			assert.Equal(t, c.allow, resp.Header.Get("Allow"))
			assert.Equal(t, c.kind.Type, h.annotationsOf(resp).Erreur)
			conform(t, h, c.rq, resp, false)
			assert.Equal(t, before, pgtest.Snapshot(t, h.pool), "the database changed")
		})
	}
}
