package soap

import (
	"bytes"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/soap/wsconnecteur"
)

// DecodeEnvelope exposes the envelope decoder to the tests: the lookup, the
// operation recognised and the error.
func DecodeEnvelope(data []byte) (bourse.Saisie, string, error) {
	r, err := decodeEnvelope(data)
	return r.saisie, r.operation, err
}

// EncodeResponse exposes the answer encoder to the tests.
func EncodeResponse(b *bytes.Buffer, r bourse.Reponse) { writeResponse(b, toResponse(r)) }

// ToResponse exposes the converter to the tests.
func ToResponse(r bourse.Reponse) *wsconnecteur.ConsulterBoursierResponse { return toResponse(r) }
