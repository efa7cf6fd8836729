package soap

// The envelope reader as it was before scan.go, over encoding/xml's
// Decoder.Token: the reference the differential tests hold the scanner and
// the reader to (FuzzScannerMatchesEncodingXML, FuzzDecoderMatchesEncodingXML).
// It knows consulterBoursier only.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// xisSOAP tells whether n is the SOAP 1.1 element local.
func xisSOAP(n xml.Name, local string) bool { return n.Space == nsSOAP11 && n.Local == local }

// trimSpace trims XML white space around s.
func trimSpace(s string) string {
	for len(s) > 0 && isSpaceByte(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpaceByte(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// decodeEnvelopeXML reads a SOAP 1.1 request envelope strictly, token by
// token, and returns its lookup. Errors are web.MalformedBody (the message
// is not a well-formed, valid envelope), soap:VersionMismatch and
// soap:MustUnderstand protocol errors, or bourse KindInvalid errors (a
// field's value has the wrong type). req.operation is set as soon as the
// Body's element is recognised, even when a later error follows.
func decodeEnvelopeXML(data []byte) (req request, err error) {
	data = bytes.TrimPrefix(data, bom)
	// The decoder's defaults are what safety needs: Strict, no Entity map
	// (only the five predefined entities), no CharsetReader (UTF-8 only).
	p := xparser{d: xml.NewDecoder(bytes.NewReader(data))}
	root, err := p.root()
	if err != nil {
		return req, err
	}
	if err := xcheckEnvelope(root.Name); err != nil {
		return req, err
	}
	if err := p.envelope(&req); err != nil {
		return req, err
	}
	return req, p.epilog()
}

// xparser reads one envelope, counting depth and elements.
type xparser struct {
	d        *xml.Decoder
	depth    int
	elements int
	tokens   int
	text     []byte // a field's text, reused
}

// next returns the next token that matters: comments are skipped, a
// DOCTYPE, any other directive and processing instructions are refused
// (SOAP 1.1 §3), and the bounds are enforced.
func (p *xparser) next() (xml.Token, error) {
	for {
		tok, err := p.d.Token()
		if err != nil {
			return nil, xsyntax(err)
		}
		p.tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			p.depth++
			p.elements++
			switch {
			case p.depth > maxDepth:
				return nil, malformed("elements nested deeper than %d levels", maxDepth)
			case p.elements > maxElements:
				return nil, malformed("more than %d elements", maxElements)
			case len(t.Attr) > maxAttrs:
				return nil, malformed("element %s has more than %d attributes", qname(t.Name), maxAttrs)
			}
			for i := 1; i < len(t.Attr); i++ {
				for j := 0; j < i; j++ {
					if t.Attr[i].Name == t.Attr[j].Name {
						return nil, malformed("element %s has the attribute %s twice", qname(t.Name), qname(t.Attr[i].Name))
					}
				}
			}
		case xml.EndElement:
			p.depth--
		case xml.Comment:
			continue
		case xml.Directive:
			if bytes.HasPrefix(t, []byte("DOCTYPE")) {
				return nil, malformed("a DOCTYPE is not allowed in a SOAP message")
			}
			return nil, malformed("an XML directive <!...> is not allowed in a SOAP message")
		case xml.ProcInst:
			if t.Target == "xml" {
				if p.tokens == 1 {
					continue
				}
				return nil, malformed("the XML declaration <?xml ...?> must open the document")
			}
			return nil, malformed("processing instruction <?%s ...?> is not allowed in a SOAP message", t.Target)
		}
		return tok, nil
	}
}

// syntax turns a decoder error into a MalformedBody error that says what
// and where; io.EOF passes.
func xsyntax(err error) error {
	if err == io.EOF {
		return err
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return malformed("malformed XML, line %d: %s", se.Line, se.Msg)
	}
	// The only other error of a decoder reading bytes: an encoding that is
	// not UTF-8, for want of a CharsetReader.
	if msg := err.Error(); strings.Contains(msg, "CharsetReader") {
		enc := "other than UTF-8"
		if i := strings.IndexByte(msg, '"'); i >= 0 {
			if j := strings.IndexByte(msg[i+1:], '"'); j >= 0 {
				enc = quote(clip(msg[i+1:i+1+j], 32))
			}
		}
		return malformed("the XML declaration names the encoding %s: this service reads UTF-8 only", enc)
	}
	return malformed("malformed XML")
}

// root returns the document's root element.
func (p *xparser) root() (xml.StartElement, error) {
	for {
		tok, err := p.next()
		if err == io.EOF {
			return xml.StartElement{}, malformed("the body holds no XML element: want a SOAP 1.1 envelope")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if !isSpace(t) {
				return xml.StartElement{}, malformed("text before the root element: want a SOAP 1.1 envelope")
			}
		}
	}
}

// checkEnvelope accepts SOAP 1.1's Envelope. An Envelope of another
// namespace is a VersionMismatch (SOAP 1.1 §4.4.1), SOAP 1.2's included.
func xcheckEnvelope(n xml.Name) error {
	switch {
	case n.Local != "Envelope":
		return malformed("the root element is %s: want soap:Envelope in namespace %s (SOAP 1.1)", qname(n), nsSOAP11)
	case n.Space == nsSOAP11:
		return nil
	case n.Space == nsSOAP12:
		return versionMismatch(web.MalformedBody, "SOAP 1.2 envelope (namespace "+nsSOAP12+"): this service speaks SOAP 1.1, namespace "+nsSOAP11)
	case n.Space == "":
		return versionMismatch(web.MalformedBody, "the Envelope has no namespace: want SOAP 1.1's "+nsSOAP11)
	default:
		return versionMismatch(web.MalformedBody, "the Envelope is in "+nsText(n.Space)+": want SOAP 1.1's namespace "+nsSOAP11)
	}
}

// envelope reads the Envelope's children: an optional Header, then one
// Body, and nothing after it (WS-I BP R1011).
func (p *xparser) envelope(req *request) error {
	seenHeader, seenBody := false, false
	for {
		tok, err := p.next()
		if err != nil {
			return eof(err, "soap:Envelope")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case xisSOAP(t.Name, "Header"):
				if seenBody {
					return malformed("soap:Header after soap:Body: the Header comes first")
				}
				if seenHeader {
					return malformed("two soap:Header elements: an envelope has at most one")
				}
				seenHeader = true
				if err := p.header(); err != nil {
					return err
				}
			case xisSOAP(t.Name, "Body"):
				if seenBody {
					return malformed("two soap:Body elements: an envelope has exactly one")
				}
				seenBody = true
				if err := p.body(req); err != nil {
					return err
				}
			case seenBody:
				return malformed("element %s after soap:Body: nothing may follow the Body", qname(t.Name))
			default:
				return malformed("unexpected element %s in soap:Envelope: want an optional soap:Header, then soap:Body", qname(t.Name))
			}
		case xml.CharData:
			if !isSpace(t) {
				return malformed("text in soap:Envelope: it holds only soap:Header and soap:Body")
			}
		case xml.EndElement:
			if !seenBody {
				return malformed("soap:Body is missing")
			}
			return nil
		}
	}
}

// header reads the Header: a block this service must understand is refused
// with soap:MustUnderstand (it understands none); the others are skipped.
func (p *xparser) header() error {
	for {
		tok, err := p.next()
		if err != nil {
			return eof(err, "soap:Header")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			mu, err := xmustUnderstand(t)
			if err != nil {
				return err
			}
			if mu {
				return &protocolError{code: codeMustUnderstand, err: web.Errorf(web.MalformedBody,
					"header block "+qname(t.Name)+` has soap:mustUnderstand="1": this service understands no header block`)}
			}
			if err := p.skip(); err != nil {
				return err
			}
		case xml.CharData:
			if !isSpace(t) {
				return malformed("text in soap:Header: it holds only header blocks")
			}
		case xml.EndElement:
			return nil
		}
	}
}

// mustUnderstand tells whether the header block t must be understood by
// this service: soap:mustUnderstand="1" and no soap:actor, or the "next"
// actor (SOAP 1.1 §4.2.2).
func xmustUnderstand(t xml.StartElement) (bool, error) {
	mu, forUs := false, true
	for _, a := range t.Attr {
		if a.Name.Space != nsSOAP11 {
			continue
		}
		v := trimSpace(a.Value)
		switch a.Name.Local {
		case "mustUnderstand":
			switch v {
			case "1", "true":
				mu = true
			case "0", "false":
			default:
				return false, malformed(`header block %s: soap:mustUnderstand must be "0" or "1"`, qname(t.Name))
			}
		case "actor":
			forUs = v == "" || v == actorNext
		}
	}
	return mu && forUs, nil
}

// skip reads past the end of the element just started.
func (p *xparser) skip() error {
	depth := p.depth
	for p.depth >= depth {
		if _, err := p.next(); err != nil {
			return eof(err, "a header block")
		}
	}
	return nil
}

// body reads the Body: exactly one element, the operation's, dispatched on
// its qualified name.
func (p *xparser) body(req *request) error {
	found := false
	for {
		tok, err := p.next()
		if err != nil {
			return eof(err, "soap:Body")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if found {
				return malformed("soap:Body holds more than one element: a request holds exactly one, %s", opLookup)
			}
			found = true
			if t.Name.Space != nsService || t.Name.Local != opLookup {
				return xunknownOperation(t.Name)
			}
			req.operation = opLookup
			if err := p.consulterBoursier(&req.saisie); err != nil {
				return err
			}
		case xml.CharData:
			if !isSpace(t) {
				return malformed("text in soap:Body: it must hold one %s element", opLookup)
			}
		case xml.EndElement:
			if !found {
				return malformed("soap:Body is empty: it must hold one %s element in namespace %s", opLookup, nsService)
			}
			return nil
		}
	}
}

func xunknownOperation(n xml.Name) error {
	switch {
	case n.Local != opLookup:
		return malformed("unknown operation %s: this service offers %s, in namespace %s", qname(n), opLookup, nsService)
	case n.Space == "":
		return malformed("%s has no namespace: the operation's element is in namespace %s", opLookup, nsService)
	default:
		return malformed("%s is in %s: the operation's element is in namespace %s", opLookup, nsText(n.Space), nsService)
	}
}

// consulterBoursier reads the operation's fields into s. Their order is
// free; each may appear once; an empty element and xsi:nil="true" are
// absent (node-soap sends both).
func (p *xparser) consulterBoursier(s *bourse.Saisie) error {
	var seen uint8
	for {
		tok, err := p.next()
		if err != nil {
			return eof(err, opLookup)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			f, err := xfield(t.Name)
			if err != nil {
				return err
			}
			name := fieldNames[f]
			if seen&(1<<f) != 0 {
				return malformed("element %s appears twice in %s", name, opLookup)
			}
			seen |= 1 << f
			isNil, err := xxsiNil(t, name)
			if err != nil {
				return err
			}
			text, err := p.readText(name)
			if err != nil {
				return err
			}
			if isNil {
				if !isSpace(text) {
					return malformed(`element %s has xsi:nil="true" and a value: send one or the other`, name)
				}
				continue
			}
			if err := assign(s, f, text); err != nil {
				return err
			}
		case xml.CharData:
			if !isSpace(t) {
				return malformed("text directly in %s: the values go in its child elements", opLookup)
			}
		case xml.EndElement:
			return nil
		}
	}
}

// field returns the field element n names.
func xfield(n xml.Name) (int, error) {
	f := fieldIndex([]byte(n.Local))
	switch {
	case f < 0:
		return 0, malformed("unknown element %s in %s: want %s", qname(n), opLookup, fieldList)
	case n.Space == nsService:
		return f, nil
	case n.Space == "":
		return 0, malformed(`element %s has no namespace: the children of %s are in namespace %s (elementFormDefault="qualified")`,
			n.Local, opLookup, nsService)
	default:
		return 0, malformed("element %s is in %s: the children of %s are in namespace %s",
			n.Local, nsText(n.Space), opLookup, nsService)
	}
}

// xsiNil reads the xsi:nil attribute of t.
func xxsiNil(t xml.StartElement, name string) (bool, error) {
	for _, a := range t.Attr {
		if a.Name.Space == nsXSI && a.Name.Local == "nil" {
			switch trimSpace(a.Value) {
			case "true", "1":
				return true, nil
			case "false", "0":
				return false, nil
			}
			return false, malformed(`element %s: xsi:nil must be "true" or "false"`, name)
		}
	}
	return false, nil
}

// readText returns the text of the field element just started, which must
// hold no element. The slice is valid until the next call.
func (p *xparser) readText(name string) ([]byte, error) {
	p.text = p.text[:0]
	for {
		tok, err := p.next()
		if err != nil {
			return nil, eof(err, name)
		}
		switch t := tok.(type) {
		case xml.CharData:
			p.text = append(p.text, t...)
		case xml.StartElement:
			return nil, malformed("element %s must hold text, not the element %s", name, qname(t.Name))
		case xml.EndElement:
			return p.text, nil
		}
	}
}

// epilog reads what follows the Envelope: white space and comments only,
// no second root and no trailing garbage.
func (p *xparser) epilog() error {
	for {
		tok, err := p.d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return malformed("content after the end of soap:Envelope is not XML (line %d: %s)", se.Line, se.Msg)
			}
			return xsyntax(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return malformed("a second root element %s after soap:Envelope: a message has one", qname(t.Name))
		case xml.CharData:
			if !isSpace(t) {
				return malformed("text after the end of soap:Envelope")
			}
		case xml.Comment:
		default:
			return malformed("markup after the end of soap:Envelope")
		}
	}
}
