package soap

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// The namespaces of the messages.
const (
	nsSOAP11  = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12  = "http://www.w3.org/2003/05/soap-envelope"
	nsService = "urn:aglae-connector:connecteur:1"
	nsXSI     = "http://www.w3.org/2001/XMLSchema-instance"
	actorNext = "http://schemas.xmlsoap.org/soap/actor/next"

	opLookup      = "consulterBoursier"
	opLookupBatch = "consulterBoursiers"
)

// The fixed parts of every envelope written. encoding/xml cannot write a
// prefixed name with its own xmlns:soap, so the envelope is literal text.
const (
	envelopeStart = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="` + nsSOAP11 + `"><soap:Body>`
	envelopeEnd        = "</soap:Body></soap:Envelope>\n"
	responseStart      = `<consulterBoursierResponse xmlns="` + nsService + `">`
	responseEnd        = `</consulterBoursierResponse>`
	batchResponseStart = `<consulterBoursiersResponse xmlns="` + nsService + `">`
	batchResponseEnd   = `</consulterBoursiersResponse>`
)

// writeResponse writes the whole answer envelope of r: a
// consulterBoursierResponse whose only child is the reponse (the WSDL's
// shape for JAX-WS wrapper style: a method that returns a ReponseBoursier).
func writeResponse(b *bytes.Buffer, r bourse.Reponse) {
	b.WriteString(envelopeStart)
	b.WriteString(responseStart)
	b.WriteString("<reponse>")
	writeReponse(b, r)
	b.WriteString("</reponse>")
	b.WriteString(responseEnd)
	b.WriteString(envelopeEnd)
}

// writeReponse writes the children of a reponse (a ReponseBoursier) for r, in the WSDL's order, without reflection: the
// fields that do not apply are empty and left out, the internal reason is
// never written. anneeUniversitaire is always written; statut is there in
// every answer.
func writeReponse(b *bytes.Buffer, r bourse.Reponse) {
	element(b, "identifiant", r.Identifiant)
	writeAnnee(b, r.AnneeUniversitaire)
	element(b, "statut", string(r.Statut))
	element(b, "typeDecision", string(r.TypeDecision))
	element(b, "echelon", r.Echelon)
	element(b, "numeroDossier", r.NumeroDossier)
	element(b, "correspondance", string(r.Correspondance))
	element(b, "identifiantAglae", r.IdentifiantAglae)
	element(b, "anomalie", string(r.Anomalie))
}

func writeAnnee(b *bytes.Buffer, annee int) {
	b.WriteString("<anneeUniversitaire>")
	b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(annee), 10))
	b.WriteString("</anneeUniversitaire>")
}

// writeBatchResponse writes the whole answer envelope of a batch: one
// reponse per identifier of l, in order, each answer with its year; an
// identifier the domain refused gets, instead of an answer, itself as sent
// and an erreur whose code is the SOAPKey of its kind, as a fault's detail
// (the WSDL's choice: a reponse has a statut or an erreur, never both).
func writeBatchResponse(b *bytes.Buffer, l bourse.Batch, rs []bourse.BatchReponse) {
	b.WriteString(envelopeStart)
	b.WriteString(batchResponseStart)
	for i, r := range rs {
		b.WriteString("<reponse>")
		if r.Err != nil {
			kind, detail := web.Classify(r.Err)
			if i < len(l.Identifiants) {
				element(b, "identifiant", l.Identifiants[i])
			}
			b.WriteString("<erreur>")
			element(b, "code", kind.SOAPKey)
			element(b, "message", detail)
			b.WriteString("</erreur>")
		} else {
			writeReponse(b, r.Reponse)
		}
		b.WriteString("</reponse>")
	}
	b.WriteString(batchResponseEnd)
	b.WriteString(envelopeEnd)
}

// writeFault writes the whole fault envelope of f. faultcode, faultstring
// and detail are unqualified (SOAP 1.1 §4.4); the detail's connecteurFault
// is in the service's namespace, as the WSDL declares it.
func writeFault(b *bytes.Buffer, f fault) {
	b.WriteString(envelopeStart)
	b.WriteString("<soap:Fault><faultcode>")
	b.WriteString(f.code)
	b.WriteString("</faultcode>")
	element(b, "faultstring", f.str)
	b.WriteString(`<detail><connecteurFault xmlns="` + nsService + `">`)
	element(b, "code", f.detailCode)
	element(b, "message", f.message)
	b.WriteString("</connecteurFault></detail></soap:Fault>")
	b.WriteString(envelopeEnd)
}

// element writes <name>text</name>, nothing when text is empty.
func element(b *bytes.Buffer, name, text string) {
	if text == "" {
		return
	}
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	escape(b, text)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// escape writes s as XML character data (or a double-quoted attribute
// value): &, <, >, " and CR as references, and invalid UTF-8 or characters
// XML 1.0 forbids as U+FFFD, so the output is always well-formed.
func escape(b *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '&' && c != '<' && c != '>' && c != '"' {
			i++
			continue
		}
		var esc string
		width := 1
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\r':
			esc = "&#xD;"
		case '\t', '\n':
			i++
			continue
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			width = n
			if r != utf8.RuneError && xmlChar(r) || r == utf8.RuneError && n == 3 {
				i += n
				continue
			}
			esc = "\uFFFD"
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		i += width
		last = i
	}
	b.WriteString(s[last:])
}

// xmlChar tells whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
