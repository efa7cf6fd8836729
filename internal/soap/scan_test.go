package soap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// scannerSeeds are documents that exercise the corners of the scanner:
// references, line ends, CDATA, comments, namespaces, names, declarations
// and their mistakes. FuzzEnvelope's catalogue seeds the fuzzers too.
var scannerSeeds = []string{
	`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:consulterBoursier xmlns:c="urn:aglae-connector:connecteur:1"><c:identifiant>1111037734L</c:identifiant></c:consulterBoursier></s:Body></s:Envelope>`,
	`<a x='1' y="2"z="3">t</a>`,
	`<a>&lt;&gt;&amp;&apos;&quot;&#65;&#x41;&#x1F600;&#0065;&#xD800;</a>`,
	`<a>&#0;</a>`, `<a>&#x110000;</a>`, `<a>&#;</a>`, `<a>&#x;</a>`, `<a>&#X41;</a>`, `<a>&#65</a>`, `<a>&#99999999999999999999999;</a>`,
	`<a>&xxe;</a>`, `<a>&lt</a>`, `<a>& b</a>`, `<a>&;</a>`, `<a>&é;</a>`, `<a>&`, `<a>&#`, `<a>&#x`, `<a>&#1`,
	"<a>x\r\ny\rz\n\r</a>", "<a b=\"x\r\ny\tz\">\r</a>", "<a><![CDATA[x\r\n]]]]><![CDATA[>]]></a>", "<a>\r&amp;\n</a>",
	`<a>]]></a>`, `<a>]]]></a>`, `<a>]&#93;></a>`, `<a b="]]>"/>`, `<a><![CDATA[]]></a>`, `<a><![CDATA[x`, `<a><![CDAT[x]]></a>`,
	`<a><!-- c --></a>`, `<a><!----></a>`, `<a><!-- - -- --></a>`, `<a><!--- --></a>`, `<a><!-x --></a>`, `<a><!--`, "<a><!-- \xff\x00 --></a>",
	`<?xml version="1.1"?><a/>`, `<?xml version="1.0" encoding="latin1"?><a/>`, `<?xml encoding='utf-8'?><a/>`, `<?xml version=1.0?><a/>`,
	`<?php x ?><a/>`, `<?xml?><a/>`, `<? x?><a/>`, `<?xml`, `<a/><?xml version="1.0"?>`,
	`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, `<!ELEMENT a ANY><a/>`, `<!`, `<!X`,
	`<a xmlns="urn:d" xmlns:p="urn:p"><p:b p:c="1" c="2" xmlns:p="urn:q"><d/></p:b><p:e/></a>`,
	`<a xmlns:p=""><p:b/></a>`, `<a xmlns=""><b/></a>`, `<p:a><p:b/></p:a>`, `<xml:a xml:lang="fr"/>`, `<xmlns:a xmlns:xmlns="x"/>`, `<xmlns/>`,
	`<a:b:c/>`, `<:a/>`, `<a:/>`, `<:/>`, `<a b:c:d="1"/>`, `<a :b="1"/>`, `<a><b></a></b>`, `<p:a xmlns:p="u" xmlns:q="u"></q:a>`, `<a></a></a>`, `</a>`,
	`<1a/>`, `<-a/>`, `<_a.b-c/>`, `<a.b/>`, "<é/>", "<aé/>", "<a\xff/>", "<a é='1'/>", "<a\u00b7/>", "<\u00b7a/>", "<a:é/>", "<é:a:b/>",
	`<a b="1" b="2"/>`, `<a p:b="1" q:b="2" xmlns:p="u" xmlns:q="u"/>`, `<a b/>`, `<a b=/>`, `<a b="1/>`, `<a b="<"/>`, `<a b=1/>`, `<a / >`, `<a/ >`, `< a/>`, `</ a>`, `<a></a >`, `<a></a b>`,
	"<a>\x00</a>", "<a>\x01</a>", "<a>\x7f</a>", "<a>\xef\xbf\xbe</a>", "<a>\xed\xa0\x80</a>", "<a>\xc3</a>", "<a b=\"\xc3\"/>", "<a>\u00e9\U0001F600</a>",
	"  <a/>  ", "<a/>x", "<a/><b/>", "<a>", "<a", "<", "", "x", "<a/><!-- x -->", "\n<?xml version=\"1.0\"?><a/>",
	`<a ` + strings.Repeat(`b="" `, 0) + `/>`,
}

// CheckScanner fails t unless the scanner reads data as encoding/xml's
// strict decoder does, token for token (names, namespaces, attributes,
// decoded text), and fails where it fails; but that it stops at a
// directive's "<!" and after maxAttrs attributes, both refused anyway.
func CheckScanner(t *testing.T, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	var s scanner
	s.reset(data)
	for i := 0; ; i++ {
		want, werr := d.Token()
		k, gerr := s.next()
		if k == tokDirective && gerr == nil {
			// The scanner returns a directive unread, and the reader
			// refuses it; encoding/xml reads it, or fails in it.
			if _, ok := want.(xml.Directive); !ok && werr == nil {
				t.Fatalf("token %d: directive, encoding/xml %#v", i, want)
			}
			return
		}
		if werr != nil {
			switch {
			case werr == io.EOF && gerr != io.EOF:
				t.Fatalf("token %d: encoding/xml ends, the scanner: %d %v", i, k, gerr)
			case werr != io.EOF && (gerr == nil || gerr == io.EOF):
				t.Fatalf("token %d: encoding/xml fails (%v), the scanner reads %d %v", i, werr, k, gerr)
			}
			return
		}
		if gerr != nil {
			if se, ok := want.(xml.StartElement); ok && len(se.Attr) > maxAttrs {
				return // the scanner stops reading the attributes of a tag at maxAttrs
			}
			t.Fatalf("token %d: the scanner fails (%v), encoding/xml reads %#v", i, gerr, want)
		}
		switch w := want.(type) {
		case xml.StartElement:
			if k != tokStart || s.name.xmlName() != w.Name || len(s.attrs) != len(w.Attr) {
				t.Fatalf("token %d: want %#v, got %d %#v %d attributes", i, w, k, s.name.xmlName(), len(s.attrs))
			}
			for j, a := range w.Attr {
				if got := s.attrs[j]; got.name.xmlName() != a.Name || string(got.value) != a.Value {
					t.Fatalf("token %d: attribute %d: want %#v, got %#v %q", i, j, a, got.name.xmlName(), got.value)
				}
			}
		case xml.EndElement:
			if k != tokEnd || s.name.xmlName() != w.Name {
				t.Fatalf("token %d: want %#v, got %d %#v", i, w, k, s.name.xmlName())
			}
		case xml.CharData:
			if k != tokText || !bytes.Equal(s.text, w) {
				t.Fatalf("token %d: want text %q, got %d %q", i, w, k, s.text)
			}
		case xml.Comment:
			if k != tokComment || !bytes.Equal(s.text, w) {
				t.Fatalf("token %d: want comment %q, got %d %q", i, w, k, s.text)
			}
		case xml.ProcInst:
			if k != tokProcInst || string(s.target) != w.Target || !bytes.Equal(s.text, w.Inst) {
				t.Fatalf("token %d: want %#v, got %d %q %q", i, w, k, s.target, s.text)
			}
		case xml.Directive:
			t.Fatalf("token %d: encoding/xml reads a directive, the scanner %d", i, k)
		}
	}
}

// FuzzScannerMatchesEncodingXML: see CheckScanner. FuzzEnvelope checks
// the same of every body it tries.
func FuzzScannerMatchesEncodingXML(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(CheckScanner)
}

// CheckDecoder fails t unless the envelope reader over the scanner decides
// on data as the reader over encoding/xml did (decodexml_test.go): the same
// lookup for what it accepts, a fault of the same code, detail and status
// for what it refuses. Batches, which the old reader did not know, are not
// compared.
func CheckDecoder(t *testing.T, data []byte) {
	t.Helper()
	got, gerr := decodeEnvelope(data)
	if got.operation == opLookupBatch {
		return
	}
	want, werr := decodeEnvelopeXML(data)
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("encoding/xml: %v; scanner: %v", werr, gerr)
	}
	if gerr == nil {
		if got.operation != want.operation || got.saisie != want.saisie {
			t.Fatalf("encoding/xml: %+v; scanner: %+v", want, got)
		}
		return
	}
	if errors.Is(werr, io.EOF) || errors.Is(gerr, io.EOF) {
		t.Fatalf("EOF escaped: encoding/xml %v, scanner %v", werr, gerr)
	}
	wf, gf := toFault(werr), toFault(gerr)
	if wf.code != gf.code || wf.detailCode != gf.detailCode || wf.status != gf.status {
		t.Fatalf("encoding/xml: %s %s (%v); scanner: %s %s (%v)", wf.code, wf.detailCode, werr, gf.code, gf.detailCode, gerr)
	}
}

// FuzzDecoderMatchesEncodingXML: see CheckDecoder. FuzzEnvelope checks the
// same of every body it tries.
func FuzzDecoderMatchesEncodingXML(f *testing.F) {
	for _, s := range scannerSeeds {
		f.Add([]byte(s))
	}
	env := func(body string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:aglae-connector:connecteur:1"><soap:Body>` +
			body + `</soap:Body></soap:Envelope>`)
	}
	for _, b := range []string{
		`<c:consulterBoursier><c:identifiant>1111037734L</c:identifiant><c:anneeUniversitaire>2014</c:anneeUniversitaire></c:consulterBoursier>`,
		`<c:consulterBoursier><c:nom>B&#xE9;lot &amp; Fils</c:nom><c:prenom><![CDATA[Ana]]></c:prenom><c:dateNaissance>1996-11-28Z</c:dateNaissance></c:consulterBoursier>`,
		`<consulterBoursier xmlns="urn:aglae-connector:connecteur:1"><identifiant xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="1"/><codeEtablissement>0781944P</codeEtablissement></consulterBoursier>`,
		`<c:consulterBoursiers><c:identifiant>1111037734L</c:identifiant></c:consulterBoursiers>`,
	} {
		f.Add(env(b))
	}
	f.Fuzz(CheckDecoder)
}

// TestScannerLimits: a tag stops being read at maxAttrs attributes, a
// directive as soon as it starts, and nothing is read after either.
func TestScannerLimits(t *testing.T) {
	t.Parallel()
	var s scanner
	s.reset([]byte(`<a` + strings.Repeat(` b=""`, maxAttrs) + ` c="">`))
	if _, err := s.next(); err == nil || !strings.Contains(err.Error(), "more than 32 attributes") {
		t.Fatalf("want the attribute bound, got %v", err)
	}
	s.reset([]byte(`<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>`))
	if k, err := s.next(); k != tokDirective || err != nil {
		t.Fatalf("want a directive, got %d %v", k, err)
	}
	if _, err := s.next(); err == nil {
		t.Fatal("the scanner goes on after a directive")
	}
}

// BenchmarkDecodeEnvelopeXML is BenchmarkDecodeEnvelope with the reader
// over encoding/xml that scan.go replaced: the figure to compare with.
func BenchmarkDecodeEnvelopeXML(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "soap", "consulterBoursier.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeEnvelopeXML(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBatch reads a batch of bourse.MaxBatch identifiers.
func BenchmarkDecodeBatch(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
		`<consulterBoursiers xmlns="urn:aglae-connector:connecteur:1"><anneeUniversitaire>2025</anneeUniversitaire>`)
	for i := range bourse.MaxBatch {
		fmt.Fprintf(&body, "<identifiant>%010d</identifiant>", 2000000000+i)
	}
	body.WriteString(`</consulterBoursiers></soap:Body></soap:Envelope>`)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		r, err := decodeEnvelope(body.Bytes())
		if err != nil || len(r.batch.Identifiants) != bourse.MaxBatch {
			b.Fatal(err)
		}
	}
}
