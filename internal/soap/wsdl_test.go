package soap_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap"
	"github.com/aglae-connector/aglae-connector/wsdl"
)

// address returns the soap:address location of a WSDL, after checking the
// document is well-formed XML and, but for the address, the embedded WSDL.
func address(t *testing.T, doc []byte) string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var location string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the WSDL is not well-formed")
		if se, ok := tok.(xml.StartElement); ok && se.Name == (xml.Name{Space: "http://schemas.xmlsoap.org/wsdl/soap/", Local: "address"}) {
			for _, a := range se.Attr {
				if a.Name.Local == "location" {
					location = a.Value
				}
			}
		}
	}
	require.NotEmpty(t, location)
	const original = `location="http://localhost:8080/ws/connecteur"`
	i := bytes.Index(doc, []byte(`location="`))
	j := bytes.IndexByte(doc[i+len(`location="`):], '"')
	restored := string(doc[:i]) + original + string(doc[i+len(`location="`)+j+1:])
	assert.Equal(t, string(wsdl.Connecteur), restored, "only the address changes")
	return location
}

func getWSDL(t *testing.T, url string, header http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
	assert.Equal(t, "text/xml; charset=utf-8", res.Header.Get("Content-Type"))
	return reply{res.StatusCode, res.Header, b}
}

func TestWSDL(t *testing.T) {
	t.Parallel()
	svc := &bourse.Service{Store: emptyStore{}}
	t.Run("public_url", func(t *testing.T) {
		srv := httptest.NewServer(soap.New(svc, soap.Options{PublicURL: "https://connecteur.example.fr/"}))
		defer srv.Close()
		for _, q := range []string{"?wsdl", "?WSDL", "?wsdl=", "?x=1&Wsdl"} {
			r := getWSDL(t, srv.URL+soap.Path+q, nil)
			assert.Equal(t, "https://connecteur.example.fr/ws/connecteur", address(t, r.body), q)
		}
	})
	t.Run("public_url_with_path_and_escapes", func(t *testing.T) {
		srv := httptest.NewServer(soap.New(svc, soap.Options{PublicURL: `https://example.fr/aglae?a=1&b="2"`}))
		defer srv.Close()
		r := getWSDL(t, srv.URL+soap.Path+"?wsdl", nil)
		assert.Equal(t, `https://example.fr/aglae?a=1&b="2"/ws/connecteur`, address(t, r.body))
	})
	t.Run("request_host", func(t *testing.T) {
		srv := httptest.NewServer(soap.New(svc, soap.Options{}))
		defer srv.Close()
		r := getWSDL(t, srv.URL+soap.Path+"?wsdl", http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil.example"}})
		assert.Equal(t, srv.URL+"/ws/connecteur", address(t, r.body), "X-Forwarded-* ignored unless trusted")
	})
	t.Run("forwarded_headers_trusted", func(t *testing.T) {
		srv := httptest.NewServer(soap.New(svc, soap.Options{TrustForwardedHeaders: true}))
		defer srv.Close()
		r := getWSDL(t, srv.URL+soap.Path+"?wsdl", http.Header{"X-Forwarded-Proto": {"https, http"}, "X-Forwarded-Host": {"connecteur.univ.fr, proxy.local"}})
		assert.Equal(t, "https://connecteur.univ.fr/ws/connecteur", address(t, r.body))
		r = getWSDL(t, srv.URL+soap.Path+"?wsdl", http.Header{"X-Forwarded-Proto": {"gopher"}, "X-Forwarded-Host": {`a"b<c`}})
		assert.Equal(t, srv.URL+"/ws/connecteur", address(t, r.body), "odd values ignored")
	})
	t.Run("odd_host", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, soap.Path+"?wsdl", nil)
		req.Host = `x"><evil/>`
		w := httptest.NewRecorder()
		soap.New(svc, soap.Options{}).ServeHTTP(w, req)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "http://localhost/ws/connecteur", address(t, w.Body.Bytes()))
	})
	t.Run("head", func(t *testing.T) {
		srv := httptest.NewServer(soap.New(svc, soap.Options{}))
		defer srv.Close()
		res, err := http.Head(srv.URL + soap.Path + "?wsdl")
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})
}
