package soap

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
)

// The namespaces of the messages.
const (
	nsSOAP11   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12   = "http://www.w3.org/2003/05/soap-envelope"
	nsService  = "urn:aglae-connector:connecteur:1"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
	actorNext  = "http://schemas.xmlsoap.org/soap/actor/next"
	opConsulte = "consulterBoursier"
)

// The fixed parts of every envelope written. encoding/xml cannot write a
// prefixed name with its own xmlns:soap, so the envelope is literal text.
const (
	envelopeStart = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<soap:Envelope xmlns:soap="` + nsSOAP11 + `"><soap:Body>`
	envelopeEnd   = "</soap:Body></soap:Envelope>\n"
	responseStart = `<consulterBoursierResponse xmlns="` + nsService + `">`
	responseEnd   = `</consulterBoursierResponse>`
)

// toResponse converts the engine's answer to the generated wire type:
// fields that do not apply stay empty (and are omitted), the internal
// reason stays behind.
func toResponse(r bourse.Reponse) *wsconnecteur.ConsulterBoursierResponse {
	return &wsconnecteur.ConsulterBoursierResponse{
		Identifiant:        r.Identifiant,
		AnneeUniversitaire: int32(r.AnneeUniversitaire),
		Statut:             ptr(wsconnecteur.Statut(r.Statut)),
		TypeDecision:       ptr(wsconnecteur.TypeDecision(r.TypeDecision)),
		Echelon:            ptr(wsconnecteur.Echelon(r.Echelon)),
		NumeroDossier:      r.NumeroDossier,
		Correspondance:     ptr(wsconnecteur.Correspondance(r.Correspondance)),
		IdentifiantAglae:   r.IdentifiantAglae,
		Anomalie:           ptr(wsconnecteur.Anomalie(r.Anomalie)),
	}
}

// ptr returns a pointer to v, or nil when v is empty.
func ptr[T ~string](v T) *T {
	if v == "" {
		return nil
	}
	return &v
}

// writeResponse writes the whole answer envelope of r: the elements of
// consulterBoursierResponse in the WSDL's order, without reflection.
// anneeUniversitaire and statut are always written (minOccurs 1).
func writeResponse(b *bytes.Buffer, r *wsconnecteur.ConsulterBoursierResponse) {
	b.WriteString(envelopeStart)
	b.WriteString(responseStart)
	element(b, "identifiant", r.Identifiant)
	b.WriteString("<anneeUniversitaire>")
	b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(r.AnneeUniversitaire), 10))
	b.WriteString("</anneeUniversitaire>")
	if r.Statut != nil {
		element(b, "statut", string(*r.Statut))
	}
	if r.TypeDecision != nil {
		element(b, "typeDecision", string(*r.TypeDecision))
	}
	if r.Echelon != nil {
		element(b, "echelon", string(*r.Echelon))
	}
	element(b, "numeroDossier", r.NumeroDossier)
	if r.Correspondance != nil {
		element(b, "correspondance", string(*r.Correspondance))
	}
	element(b, "identifiantAglae", r.IdentifiantAglae)
	if r.Anomalie != nil {
		element(b, "anomalie", string(*r.Anomalie))
	}
	b.WriteString(responseEnd)
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
