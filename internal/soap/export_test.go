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

// DecodeBatch exposes the envelope decoder to the tests: the batch, the
// operation recognised and the error.
func DecodeBatch(data []byte) (bourse.Batch, string, error) {
	r, err := decodeEnvelope(data)
	return r.batch, r.operation, err
}

// EncodeResponse exposes the answer encoder to the tests.
func EncodeResponse(b *bytes.Buffer, r bourse.Reponse) { writeResponse(b, r) }

// EncodeBatchResponse exposes the batch answer encoder to the tests.
func EncodeBatchResponse(b *bytes.Buffer, l bourse.Batch, rs []bourse.BatchReponse) {
	writeBatchResponse(b, l, rs)
}

// ToResponse converts the engine's answer to the generated wire type, as
// a client reads it: fields that do not apply are nil or empty, the
// internal reason is not there.
func ToResponse(r bourse.Reponse) *wsconnecteur.ConsulterBoursierResponse {
	return &wsconnecteur.ConsulterBoursierResponse{Reponse: &wsconnecteur.ReponseBoursier{
		Identifiant:        r.Identifiant,
		AnneeUniversitaire: int32(r.AnneeUniversitaire),
		Statut:             ptr(wsconnecteur.Statut(r.Statut)),
		TypeDecision:       ptr(wsconnecteur.TypeDecision(r.TypeDecision)),
		Echelon:            ptr(wsconnecteur.Echelon(r.Echelon)),
		NumeroDossier:      r.NumeroDossier,
		Correspondance:     ptr(wsconnecteur.Correspondance(r.Correspondance)),
		IdentifiantAglae:   r.IdentifiantAglae,
		Anomalie:           ptr(wsconnecteur.Anomalie(r.Anomalie)),
	}}
}

// ptr returns a pointer to v, or nil when v is empty.
func ptr[T ~string](v T) *T {
	if v == "" {
		return nil
	}
	return &v
}
