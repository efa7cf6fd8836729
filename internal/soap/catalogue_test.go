package soap_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// badRequest is a request the service must refuse as the caller's fault.
type badRequest struct {
	name        string
	method      string // POST when empty
	contentType string // text/xml; charset=utf-8 when empty; "-" for none
	encoding    string // the Content-Encoding header, none when empty
	body        []byte
	status      int    // 500 when 0: a fault, as WS-I requires
	code        string // soap:Client when empty
	detail      string // the connecteurFault code, when it matters
	contains    string // a substring of the faultstring
}

const (
	envOpen  = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:aglae-connector:connecteur:1">`
	envClose = `</soap:Envelope>`
	seedID   = `<c:identifiant>1111037734L</c:identifiant>`
	seed2014 = seedID + `<c:anneeUniversitaire>2014</c:anneeUniversitaire>`
	identity = `<c:nom>Boulet</c:nom><c:prenom>Amandine</c:prenom><c:dateNaissance>1996-11-28</c:dateNaissance>`
)

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
` + envOpen + `<soap:Body><c:consulterBoursier>` + seedID + `<c:nom>&lol9;</c:nom></c:consulterBoursier></soap:Body>` + envClose

// noDecl removes the XML declaration envelope and lookup write.
func noDecl(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte(`<?xml version="1.0" encoding="UTF-8"?>`))
}

// catalogue is every bad request the service is tested with; its bodies
// also seed FuzzEnvelope.
func catalogue() []badRequest {
	header := func(blocks string) []byte {
		return []byte(envOpen + `<soap:Header>` + blocks + `</soap:Header><soap:Body><c:consulterBoursier>` + seed2014 +
			`</c:consulterBoursier></soap:Body>` + envClose)
	}
	return []badRequest{
		// Not XML, or not well-formed.
		{name: "empty_body", body: nil, contains: "holds no XML element"},
		{name: "not_xml", body: []byte("identifiant=1111037734L"), contains: "text before the root element"},
		{name: "malformed_xml", body: []byte(envOpen + `<soap:Body><c:consulterBoursier <c:identifiant>`), contains: "malformed XML, line 1"},
		{name: "unclosed_tags", body: []byte(envOpen + `<soap:Body><c:consulterBoursier>` + seed2014), contains: "unexpected EOF"},
		{name: "mismatched_end_tag", body: []byte(envOpen + `<soap:Body><c:consulterBoursier>` + seed2014 + `</c:consulterBoursie></soap:Body>` + envClose), contains: "closed by"},
		{name: "invalid_utf8", body: lookup(seedID + "<c:nom>\xff\xfeBoulet</c:nom>"), contains: "invalid UTF-8"},
		{name: "nul_byte", body: lookup("<c:identifiant>1111037734L\x00</c:identifiant>"), contains: "U+0000"},
		{name: "encoding_iso_8859_1", body: append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`), noDecl(lookup(seedID+"<c:nom>B\xe9lot</c:nom>"))...), contains: `encoding "ISO-8859-1": this service reads UTF-8 only`},
		{name: "xml_declaration_not_first", body: append([]byte("\n"), lookup(seed2014)...), contains: "XML declaration"},
		{name: "processing_instruction", body: lookup(`<?php echo 1; ?>` + seed2014), contains: "processing instruction <?php"},
		{name: "undefined_entity", body: lookup(`<c:identifiant>&xxe;</c:identifiant>`), contains: "invalid character entity &xxe;"},
		{name: "xxe_external_entity", body: []byte(`<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			envOpen + `<soap:Body><c:consulterBoursier><c:identifiant>&xxe;</c:identifiant></c:consulterBoursier></soap:Body>` + envClose),
			contains: "DOCTYPE is not allowed"},
		{name: "billion_laughs", body: []byte(billionLaughs), contains: "DOCTYPE is not allowed"},
		{name: "oversize_body", body: lookup(seedID + "<c:nom>" + strings.Repeat("A", web.DefaultMaxBody) + "</c:nom>"),
			status: http.StatusRequestEntityTooLarge, detail: "BODY_TOO_LARGE", contains: "larger than the limit of 65536 bytes"},
		{name: "deep_nesting", body: header(`<x:h xmlns:x="urn:x">` + strings.Repeat("<a>", 10000)), contains: "nested deeper than 32 levels"},
		{name: "too_many_elements", body: header(strings.Repeat(`<x:h xmlns:x="urn:x"/>`, 300)), contains: "more than 256 elements"},
		{name: "too_many_attributes", body: lookup(`<c:identifiant` + strings.Repeat(` a=""`, 33) + `>1111037734L</c:identifiant>`), contains: "element c:identifiant has more than 32 attributes"},
		{name: "xml_version_1_1", body: append([]byte(`<?xml version="1.1"?>`), noDecl(lookup(seed2014))...), contains: `unsupported version "1.1"`},
		{name: "reference_to_nul", body: lookup(`<c:identifiant>1111037734L&#0;</c:identifiant>`), contains: "U+0000"},
		{name: "reference_to_noncharacter", body: lookup(`<c:identifiant>1111037734L&#xFFFE;</c:identifiant>`), contains: "U+FFFE"},
		{name: "reference_beyond_unicode", body: lookup(`<c:identifiant>&#x110000;</c:identifiant>`), contains: "invalid character entity &#x110000;"},
		{name: "cdata_end_in_text", body: lookup(`<c:identifiant>1111037734L]]></c:identifiant>`), contains: "unescaped ]]> not in CDATA section"},
		{name: "unterminated_cdata", body: lookup(`<c:identifiant><![CDATA[1111037734L</c:identifiant>`), contains: "unexpected EOF in CDATA section"},
		{name: "double_hyphen_in_comment", body: lookup(`<!-- a -- b -->` + seed2014), contains: `"--" not allowed in comments`},
		{name: "unquoted_attribute", body: lookup(`<c:identifiant a=1>1111037734L</c:identifiant>`), contains: "unquoted or missing attribute value"},
		{name: "lt_in_attribute", body: lookup(`<c:identifiant a="<">1111037734L</c:identifiant>`), contains: "unescaped < inside quoted string"},
		{name: "duplicated_attribute", body: []byte(envOpen + `<soap:Body><c:consulterBoursier a="1" a="2">` + seed2014 + `</c:consulterBoursier></soap:Body>` + envClose), contains: "attribute a twice"},
		{name: "trailing_garbage", body: append(lookup(seed2014), "garbage"...), contains: "text after the end of soap:Envelope"},
		{name: "trailing_markup", body: append(lookup(seed2014), "<"...), contains: "after the end of soap:Envelope is not XML"},
		{name: "second_root", body: append(lookup(seed2014), noDecl(lookup(seed2014))...), contains: "second root element soap:Envelope"},

		// Not a SOAP 1.1 envelope.
		{name: "root_not_envelope", body: []byte(`<consulterBoursier xmlns="urn:aglae-connector:connecteur:1">` + strings.ReplaceAll(seed2014, "c:", "") + `</consulterBoursier>`),
			contains: "the root element is consulterBoursier"},
		{name: "wrong_envelope_namespace", body: []byte(`<soap:Envelope xmlns:soap="http://example.org/soap/"><soap:Body/></soap:Envelope>`),
			code: "soap:VersionMismatch", contains: `namespace "http://example.org/soap/"`},
		{name: "undeclared_envelope_prefix", body: []byte(`<soap:Envelope><soap:Body/></soap:Envelope>`),
			code: "soap:VersionMismatch", contains: `the Envelope is in undeclared prefix "soap"`},
		{name: "soap12_envelope", body: []byte(`<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>` +
			`<c:consulterBoursier xmlns:c="urn:aglae-connector:connecteur:1">` + seed2014 + `</c:consulterBoursier></env:Body></env:Envelope>`),
			code: "soap:VersionMismatch", contains: "SOAP 1.2 envelope"},
		{name: "soap12_content_type", contentType: `application/soap+xml; charset=utf-8; action="urn:aglae-connector:connecteur:1/consulterBoursier"`,
			body: lookup(seed2014), code: "soap:VersionMismatch", detail: "UNSUPPORTED_MEDIA_TYPE", contains: "application/soap+xml is SOAP 1.2"},
		{name: "missing_body", body: []byte(envOpen + `<soap:Header/>` + envClose), contains: "soap:Body is missing"},
		{name: "empty_body_element", body: envelope(""), contains: "soap:Body is empty"},
		{name: "two_body_children", body: envelope(`<c:consulterBoursier>` + seed2014 + `</c:consulterBoursier><c:consulterBoursier>` + seed2014 + `</c:consulterBoursier>`),
			contains: "soap:Body holds more than one element"},
		{name: "two_bodies", body: []byte(envOpen + `<soap:Body><c:consulterBoursier>` + seed2014 + `</c:consulterBoursier></soap:Body><soap:Body/>` + envClose),
			contains: "two soap:Body elements"},
		{name: "header_after_body", body: []byte(envOpen + `<soap:Body><c:consulterBoursier>` + seed2014 + `</c:consulterBoursier></soap:Body><soap:Header/>` + envClose),
			contains: "soap:Header after soap:Body"},
		{name: "element_after_body", body: []byte(envOpen + `<soap:Body><c:consulterBoursier>` + seed2014 + `</c:consulterBoursier></soap:Body><x/>` + envClose),
			contains: "element x after soap:Body"},
		{name: "text_in_body", body: envelope(`1111037734L`), contains: "text in soap:Body"},
		{name: "must_understand_header", body: header(`<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="1"/>`),
			code: "soap:MustUnderstand", contains: `header block Security (namespace "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd") has soap:mustUnderstand="1"`},
		{name: "bad_must_understand_value", body: header(`<x:h xmlns:x="urn:x" soap:mustUnderstand="yes"/>`), contains: `soap:mustUnderstand must be "0" or "1"`},

		// The operation.
		{name: "unknown_operation", body: envelope(`<c:supprimerBoursier>` + seed2014 + `</c:supprimerBoursier>`), contains: "unknown operation supprimerBoursier"},
		{name: "wrong_operation_namespace", body: envelope(`<o:consulterBoursier xmlns:o="urn:other">` + seed2014 + `</o:consulterBoursier>`),
			contains: `consulterBoursier is in namespace "urn:other"`},
		{name: "undeclared_operation_prefix", body: envelope(`<x:consulterBoursier>` + seed2014 + `</x:consulterBoursier>`),
			contains: `consulterBoursier is in undeclared prefix "x"`},
		{name: "operation_without_namespace", body: envelope(`<consulterBoursier><identifiant>1111037734L</identifiant></consulterBoursier>`),
			contains: "consulterBoursier has no namespace"},

		// Its fields.
		{name: "unknown_child_element", body: lookup(seed2014 + `<c:numeroSecu>1</c:numeroSecu>`), contains: "unknown element numeroSecu in consulterBoursier"},
		{name: "unqualified_child_element", body: lookup(`<identifiant>1111037734L</identifiant>`), contains: "element identifiant has no namespace"},
		{name: "duplicated_element", body: lookup(seed2014 + seedID), contains: "element identifiant appears twice"},
		{name: "element_where_text_expected", body: lookup(`<c:identifiant><c:valeur>1111037734L</c:valeur></c:identifiant>`), contains: "element identifiant must hold text"},
		{name: "text_in_operation", body: lookup(`1111037734L`), contains: "text directly in consulterBoursier"},
		{name: "nil_with_value", body: lookup(`<c:identifiant xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true">1111037734L</c:identifiant>`), contains: `xsi:nil="true" and a value`},
		{name: "annee_not_integer", body: lookup(seedID + `<c:anneeUniversitaire>abc</c:anneeUniversitaire>`), detail: "INVALID_INPUT", contains: "anneeUniversitaire: must be an integer"},
		{name: "annee_99999", body: lookup(seedID + `<c:anneeUniversitaire>99999</c:anneeUniversitaire>`), detail: "INVALID_INPUT", contains: "anneeUniversitaire: must be a year between 2000 and 2099"},
		{name: "annee_zero", body: lookup(seedID + `<c:anneeUniversitaire>0</c:anneeUniversitaire>`), detail: "INVALID_INPUT", contains: "anneeUniversitaire: must be a year between 2000 and 2099"},
		{name: "annee_overflow", body: lookup(seedID + `<c:anneeUniversitaire>99999999999999999999</c:anneeUniversitaire>`), contains: "anneeUniversitaire: must be a year"},
		{name: "bad_date", body: lookup(seedID + `<c:nom>Boulet</c:nom><c:prenom>Amandine</c:prenom><c:dateNaissance>28/11/1996</c:dateNaissance>`),
			detail: "INVALID_INPUT", contains: "dateNaissance: must be a date YYYY-MM-DD"},
		{name: "impossible_date", body: lookup(seedID + `<c:nom>Boulet</c:nom><c:prenom>Amandine</c:prenom><c:dateNaissance>1996-02-30</c:dateNaissance>`),
			detail: "INVALID_INPUT", contains: "dateNaissance: must be a date YYYY-MM-DD"},
		{name: "missing_identifiant_and_identity", body: lookup(`<c:anneeUniversitaire>2014</c:anneeUniversitaire>`), detail: "INVALID_INPUT",
			contains: "identifiant: required, unless the identity"},
		{name: "empty_operation", body: envelope(`<c:consulterBoursier/>`), detail: "INVALID_INPUT", contains: "identifiant: required"},
		{name: "invalid_identifiant_key", body: lookup(`<c:identifiant>1111037734A</c:identifiant>`), detail: "INVALID_INPUT", contains: "identifiant: key:"},
		{name: "invalid_identifiant_length", body: lookup(`<c:identifiant>12345</c:identifiant>`), detail: "INVALID_INPUT", contains: "identifiant: length:"},
		{name: "identifiant_not_ascii", body: lookup(`<c:identifiant>1111037734É</c:identifiant>`), detail: "INVALID_INPUT", contains: "identifiant: ascii:"},
		{name: "sql_metacharacters_identifiant", body: lookup(`<c:identifiant>' OR 1=1 --</c:identifiant>`), detail: "INVALID_INPUT", contains: "identifiant:"},
		{name: "sql_metacharacters_identifiant_11", body: lookup(`<c:identifiant>1';DROP--xx</c:identifiant>`), detail: "INVALID_INPUT", contains: "identifiant: characters:"},
		{name: "partial_identity", body: lookup(seed2014 + `<c:nom>Boulet</c:nom>`), detail: "INVALID_INPUT", contains: "prenom and dateNaissance missing"},
		{name: "dossier_year_contradiction", body: lookup(`<c:identifiant>2014MON1111037734L</c:identifiant><c:anneeUniversitaire>2015</c:anneeUniversitaire>`),
			detail: "INVALID_INPUT", contains: "anneeUniversitaire: 2015 contradicts the year 2014"},
		{name: "invalid_uai", body: lookup(seed2014 + `<c:codeEtablissement>0781944A</c:codeEtablissement>`), detail: "INVALID_INPUT", contains: "codeEtablissement:"},
		{name: "nom_without_letter", body: lookup(seed2014 + `<c:nom>---</c:nom><c:prenom>Amandine</c:prenom><c:dateNaissance>1996-11-28</c:dateNaissance>`),
			detail: "INVALID_INPUT", contains: "nom: must contain a letter"},

		// The batch, consulterBoursiers.
		{name: "lot_no_identifiant", body: batch(`<c:anneeUniversitaire>2025</c:anneeUniversitaire>`), detail: "INVALID_INPUT",
			contains: "identifiant: required: a batch holds 1 to 1000 identifiant elements"},
		{name: "lot_empty", body: envelope(`<c:consulterBoursiers/>`), detail: "INVALID_INPUT", contains: "identifiant: required"},
		{name: "lot_1001_identifiants", body: batch(strings.Repeat(`<c:identifiant>2000000011F</c:identifiant>`, 1001)), detail: "INVALID_INPUT",
			contains: "identifiant: at most 1000 identifiant elements per batch"},
		{name: "lot_unknown_child", body: batch(ids("2000000011F") + `<c:nom>Boulet</c:nom>`), contains: "unknown element nom in consulterBoursiers"},
		{name: "lot_unqualified_child", body: batch(`<identifiant>2000000011F</identifiant>`), contains: "element identifiant has no namespace"},
		{name: "lot_duplicated_annee", body: batch(`<c:anneeUniversitaire>2025</c:anneeUniversitaire>` + ids("2000000011F") + `<c:anneeUniversitaire>2025</c:anneeUniversitaire>`),
			contains: "element anneeUniversitaire appears twice in consulterBoursiers"},
		{name: "lot_element_where_text_expected", body: batch(`<c:identifiant><c:valeur>2000000011F</c:valeur></c:identifiant>`), contains: "element identifiant must hold text"},
		{name: "lot_nil_with_value", body: batch(`<c:identifiant xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true">2000000011F</c:identifiant>`),
			contains: `xsi:nil="true" and a value`},
		{name: "lot_text_in_operation", body: batch(`2000000011F`), contains: "text directly in consulterBoursiers"},
		{name: "lot_wrong_namespace", body: envelope(`<o:consulterBoursiers xmlns:o="urn:other">` + seedID + `</o:consulterBoursiers>`),
			contains: `consulterBoursiers is in namespace "urn:other"`},
		{name: "lot_annee_not_integer", body: batch(`<c:anneeUniversitaire>2025a</c:anneeUniversitaire>` + ids("2000000011F")), detail: "INVALID_INPUT",
			contains: "anneeUniversitaire: must be an integer"},
		{name: "lot_annee_99999", body: batch(`<c:anneeUniversitaire>99999</c:anneeUniversitaire>` + ids("2000000011F")), detail: "INVALID_INPUT",
			contains: "anneeUniversitaire: must be a year between 2000 and 2099"},
		{name: "lot_annee_1999", body: batch(`<c:anneeUniversitaire>1999</c:anneeUniversitaire>` + ids("2000000011F")), detail: "INVALID_INPUT",
			contains: "anneeUniversitaire: must be a year between 2000 and 2099"},
		{name: "lot_invalid_uai", body: batch(`<c:codeEtablissement>0781944A</c:codeEtablissement>` + ids("2000000011F")), detail: "INVALID_INPUT", contains: "codeEtablissement:"},
		{name: "lot_identity", body: batch(ids("2000000011F") + identity), contains: "unknown element nom in consulterBoursiers"},

		// Huge names: the fault says which, cut short, and does not echo 60 KB.
		{name: "huge_unknown_element", body: lookup(seed2014 + `<c:` + strings.Repeat("x", 60000) + `/>`),
			contains: "unknown element " + strings.Repeat("x", 64) + "… in consulterBoursier"},
		{name: "huge_unknown_operation", body: []byte(envOpen + `<soap:Body><c:` + strings.Repeat("y", 60000) + `/></soap:Body>` + envClose),
			contains: "unknown operation " + strings.Repeat("y", 64) + "…"},
		{name: "huge_mismatched_end_tag", body: []byte(envOpen + `<soap:Header><h:` + strings.Repeat("z", 30000) + ` xmlns:h="urn:x"></h:` +
			strings.Repeat("w", 30000) + `></soap:Header><soap:Body><c:consulterBoursier>` + seed2014 + `</c:consulterBoursier></soap:Body>` + envClose),
			contains: "element <" + strings.Repeat("z", 64) + "…> closed by </" + strings.Repeat("w", 64) + "…>"},
		{name: "huge_entity", body: lookup(`<c:nom>&` + strings.Repeat("e", 60000) + `</c:nom>`), contains: "invalid character entity &" + strings.Repeat("e", 63) + "…"},

		// HTTP.
		{name: "wrong_content_type", contentType: "application/json", body: lookup(seed2014), status: http.StatusUnsupportedMediaType,
			detail: "UNSUPPORTED_MEDIA_TYPE", contains: `Content-Type "application/json" is not supported`},
		{name: "curl_default_content_type", contentType: "application/x-www-form-urlencoded", body: lookup(seed2014), status: http.StatusUnsupportedMediaType, contains: "send text/xml"},
		{name: "missing_content_type", contentType: "-", body: lookup(seed2014), status: http.StatusUnsupportedMediaType, contains: "Content-Type header is missing"},
		{name: "latin1_charset", contentType: "text/xml; charset=ISO-8859-1", body: lookup(seed2014), status: http.StatusUnsupportedMediaType, contains: `charset "ISO-8859-1" is not supported`},
		{name: "gzip_label_on_plain_body", encoding: "gzip", body: lookup(seed2014), status: http.StatusUnsupportedMediaType,
			detail: "UNSUPPORTED_MEDIA_TYPE", contains: `Content-Encoding "gzip" is not supported: send the body uncompressed`},
		{name: "deflate_after_identity", encoding: "identity, deflate", body: lookup(seed2014), status: http.StatusUnsupportedMediaType,
			contains: `Content-Encoding "deflate" is not supported`},
		{name: "get_without_wsdl", method: http.MethodGet, status: http.StatusBadRequest, contains: "serves only the WSDL"},
		{name: "put", method: http.MethodPut, body: lookup(seed2014), status: http.StatusMethodNotAllowed, detail: "METHOD_NOT_ALLOWED", contains: "method PUT is not allowed"},
		{name: "delete", method: http.MethodDelete, status: http.StatusMethodNotAllowed, contains: "method DELETE is not allowed"},
	}
}

// TestBadRequests: every request of the catalogue gets a client fault that
// says what is wrong, never a soap:Server fault, and the database does not
// change.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	before := pgtest.Snapshot(t, e.pool)
	cat := catalogue()
	require.GreaterOrEqual(t, len(cat), 25)
	for _, c := range cat {
		t.Run(c.name, func(t *testing.T) {
			method, ct, status, code := c.method, c.contentType, c.status, c.code
			if method == "" {
				method = http.MethodPost
			}
			switch ct {
			case "":
				ct = textXML
			case "-":
				ct = ""
			}
			if status == 0 {
				status = http.StatusInternalServerError
			}
			if code == "" {
				code = "soap:Client"
			}
			r := doEncoded(t, method, e.url, ct, c.encoding, c.body)
			assert.Equal(t, status, r.status, "%s", r.body)
			f := parseFault(t, r)
			t.Logf("HTTP %d %s %s: %s", r.status, f.Code, f.Detail.Code, f.String)
			assert.Equal(t, code, f.Code)
			assert.NotEqual(t, "soap:Server", f.Code)
			assert.Contains(t, f.String, c.contains)
			assert.Equal(t, f.String, f.Detail.Message)
			if c.detail != "" {
				assert.Equal(t, c.detail, f.Detail.Code)
			}
			if status == http.StatusMethodNotAllowed {
				assert.Equal(t, "GET, HEAD, POST", r.header.Get("Allow"))
			}
			assert.NotContains(t, string(r.body), "root:", "nothing of /etc/passwd")
			assert.Less(t, len(r.body), 2048, "a fault is short: no echo of the request")
			assert.Equal(t, before, pgtest.Snapshot(t, e.pool), "the database changed")
		})
	}
}

// doEncoded is do with a Content-Encoding header, when encoding is not
// empty.
func doEncoded(t *testing.T, method, url, contentType, encoding string, body []byte) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return reply{res.StatusCode, res.Header, b}
}

// TestSQLMetacharactersInNames: names are data, never SQL. A valid
// identity full of SQL is looked up like any other and finds nobody.
func TestSQLMetacharactersInNames(t *testing.T) {
	t.Parallel()
	e := newEnv(t, soap.Options{})
	before := pgtest.Snapshot(t, e.pool)
	got := parseResponse(t, do(t, http.MethodPost, e.url, textXML, lookup(`<c:anneeUniversitaire>2014</c:anneeUniversitaire>`+
		`<c:nom>Boulet'); DELETE FROM aglae.dossier; --</c:nom><c:prenom>' OR '1'='1</c:prenom><c:dateNaissance>1996-11-28</c:dateNaissance>`)))
	assert.Equal(t, "INCONNU", got.Statut)
	assert.Equal(t, before, pgtest.Snapshot(t, e.pool))
}
