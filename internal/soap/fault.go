package soap

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aglae-connector/aglae-connector/internal/web"
)

// The fault codes of SOAP 1.1 §4.4.1, with the envelope's prefix.
const (
	codeVersionMismatch = "soap:VersionMismatch"
	codeMustUnderstand  = "soap:MustUnderstand"
	codeClient          = "soap:Client"
	codeServer          = "soap:Server"
)

// protocolError is a transport error whose SOAP fault code or HTTP status is
// not the one its kind implies: a VersionMismatch, a MustUnderstand, a GET
// without ?wsdl.
type protocolError struct {
	code   string // the faultcode; "" for the kind's
	status int    // the HTTP status; 0 for the kind's
	err    *web.Error
}

func (e *protocolError) Error() string { return e.err.Error() }
func (e *protocolError) Unwrap() error { return e.err }

// versionMismatch returns a soap:VersionMismatch error, sent with HTTP 500
// like every fault.
func versionMismatch(k web.Kind, detail string) error {
	return &protocolError{code: codeVersionMismatch, status: http.StatusInternalServerError, err: web.Errorf(k, detail)}
}

// fault is what a fault envelope says.
type fault struct {
	status     int    // HTTP status
	code       string // faultcode, e.g. soap:Client
	client     bool   // the caller's fault (no log)
	str        string // faultstring
	detailCode string // connecteurFault/code: web.Kind.SOAPKey
	message    string // connecteurFault/message
}

// toFault turns any error into the fault that answers it. The kind comes
// from web.Classify, the table REST uses too; a server fault's strings are
// generic, never the internal cause.
func toFault(err error) fault {
	kind, detail := web.Classify(err)
	f := fault{
		status:     http.StatusInternalServerError, // WS-I BP R1126
		code:       codeClient,
		client:     kind.Client,
		str:        detail,
		detailCode: kind.SOAPKey,
		message:    detail,
	}
	switch kind.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests:
		// Statuses of the transport, which HTTP clients act on (credentials,
		// retry, body size) before they read a fault.
		f.status = kind.Status
	}
	if !kind.Client {
		f.code = codeServer
		f.str = "internal error"
		if kind.SOAPKey == web.Unavailable.SOAPKey {
			f.str = "service temporarily unavailable"
		}
	}
	var pe *protocolError
	if errors.As(err, &pe) {
		if pe.code != "" {
			f.code = pe.code
		}
		if pe.status != 0 {
			f.status = pe.status
		}
	}
	return f
}

// checkContentEncoding refuses a body labelled with a Content-Encoding
// other than identity, as REST does: the service reads bodies uncompressed,
// and would otherwise parse compressed bytes as XML.
func checkContentEncoding(vs []string) error {
	for _, v := range vs {
		for ce := range strings.SplitSeq(v, ",") {
			if ce = strings.TrimSpace(ce); ce != "" && !strings.EqualFold(ce, "identity") {
				return web.Errorf(web.UnsupportedMedia, "Content-Encoding "+quote(clip(ce, 32))+" is not supported: send the body uncompressed")
			}
		}
	}
	return nil
}

// checkContentType accepts text/xml with a UTF-8 charset or none. SOAP 1.2's
// application/soap+xml is a soap:VersionMismatch; anything else a 415.
func checkContentType(v string) error {
	if v == contentType || v == "text/xml" {
		return nil
	}
	if strings.TrimSpace(v) == "" {
		return web.Errorf(web.UnsupportedMedia, "the Content-Type header is missing: send text/xml; charset=utf-8 (SOAP 1.1)")
	}
	mt, params, _ := strings.Cut(v, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, "text/xml"):
	case strings.EqualFold(mt, "application/soap+xml"):
		return versionMismatch(web.UnsupportedMedia, "application/soap+xml is SOAP 1.2: this service speaks SOAP 1.1, send text/xml; charset=utf-8")
	default:
		return web.Errorf(web.UnsupportedMedia, "Content-Type "+quote(clip(mt, 64))+" is not supported: send text/xml; charset=utf-8 (SOAP 1.1)")
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, val, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "charset") {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if !strings.EqualFold(val, "utf-8") {
			return web.Errorf(web.UnsupportedMedia, "charset "+quote(clip(val, 32))+" is not supported: send UTF-8 (text/xml; charset=utf-8)")
		}
	}
	return nil
}

// clip cuts s to at most n bytes, on a rune boundary when s is UTF-8.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// quote wraps s in double quotes, for a message.
func quote(s string) string { return `"` + s + `"` }
