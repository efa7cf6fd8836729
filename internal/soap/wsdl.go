package soap

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/aglae-connector/aglae-connector/internal/web"
	"github.com/aglae-connector/aglae-connector/wsdl"
)

// wsdlHead and wsdlTail are the WSDL before and after the value of its
// soap:address location, which is rewritten for every public URL.
var wsdlHead, wsdlTail = splitWSDL(wsdl.Connecteur)

func splitWSDL(doc []byte) (head, tail []byte) {
	const mark = `<soap:address location="`
	i := bytes.Index(doc, []byte(mark))
	if i < 0 {
		panic("soap: the WSDL has no " + mark)
	}
	i += len(mark)
	j := bytes.IndexByte(doc[i:], '"')
	if j < 0 {
		panic("soap: the WSDL's soap:address location is not closed")
	}
	return doc[:i], doc[i+j:]
}

// wsdlFor returns the WSDL whose soap:address is location.
func wsdlFor(location string) []byte {
	var b bytes.Buffer
	b.Grow(len(wsdlHead) + len(location) + len(wsdlTail))
	b.Write(wsdlHead)
	escape(&b, location)
	b.Write(wsdlTail)
	return b.Bytes()
}

// serveWSDL answers GET ?wsdl.
func (s *Service) serveWSDL(w http.ResponseWriter, r *http.Request) {
	doc := s.wsdlDoc
	if doc == nil {
		doc = wsdlFor(s.baseURL(r) + Path)
	}
	web.Annotate(r.Context()).Operation = "wsdl"
	h := w.Header()
	h.Set("Content-Type", contentType)
	if s.wsdlDoc == nil {
		h.Set("Vary", "Host, X-Forwarded-Proto, X-Forwarded-Host")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}

// baseURL is scheme://host of the request, as the client reached the
// service: through the proxy's X-Forwarded-* headers when they are trusted.
func (s *Service) baseURL(r *http.Request) string {
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if s.opts.TrustForwardedHeaders {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); strings.EqualFold(p, "https") || strings.EqualFold(p, "http") {
			scheme = strings.ToLower(p)
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// firstValue is the first of a comma-separated header's values: the one the
// outermost proxy set.
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// validHost accepts a host[:port] made of the characters a host name, an
// IPv4 or a bracketed IPv6 address use.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}
