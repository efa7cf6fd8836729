package rest

import (
	"net/http"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

const opPostBatch = "POST lot"

// batchRequest is the body of POST /v1/consultations/lot. Its rules are those
// of the single lookup's body: null is absent, anneeUniversitaire 0 is
// refused.
type batchRequest struct {
	AnneeUniversitaire yearValue `json:"anneeUniversitaire"`
	CodeEtablissement  string    `json:"codeEtablissement"`
	Identifiants       []string  `json:"identifiants"`
}

var batchShape = &objectShape{
	fields:  []string{"anneeUniversitaire", "codeEtablissement", "identifiants"},
	example: `{"anneeUniversitaire":2025,"identifiants":["1111037734L"]}`,
	want: func(ptr jsontext.Pointer) string {
		switch ptr {
		case "/codeEtablissement":
			return "a string"
		case "/identifiants":
			return "an array of strings"
		}
		return "a string" // an element of identifiants
	},
}

// postBatch answers POST /v1/consultations/lot: up to 1,000 identifiers of one
// year, answered in the same order with one query. An invalid identifier
// gets an error in its place; the others are answered.
func (a *API) postBatch(w http.ResponseWriter, r *http.Request) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	buf, err := readBody(r)
	if err != nil {
		return err
	}
	var req batchRequest
	err = decodeObject(*buf, &req, batchShape)
	putBody(buf)
	if err != nil {
		return err
	}
	if req.Identifiants == nil {
		return bourse.Invalid("identifiants", "required: an array of up to %d identifiers", bourse.MaxBatch)
	}
	release, err := web.ChargeBatch(r.Context(), len(req.Identifiants))
	if err != nil {
		return err
	}
	defer release()
	rs, err := a.svc.ConsultBatch(r.Context(), bourse.Batch{Annee: int(req.AnneeUniversitaire),
		CodeEtablissement: req.CodeEtablissement, Identifiants: req.Identifiants})
	if err != nil {
		return err
	}
	annee := int(req.AnneeUniversitaire)
	out := make([]byte, 0, 64+len(rs)*200)
	out = append(out, `{"reponses":[`...)
	for i, x := range rs {
		if i > 0 {
			out = append(out, ',')
		}
		if x.Err != nil {
			k, detail := web.Classify(x.Err)
			item, _ := json.Marshal(batchErreur{Identifiant: req.Identifiants[i],
				Erreur: batchProblem{Type: web.ProblemBase + k.Type, Detail: detail}})
			out = append(out, item...)
			continue
		}
		annee = x.Reponse.AnneeUniversitaire
		out = appendReponse(out, ToReponse(x.Reponse))
	}
	out = append(out, `],"anneeUniversitaire":`...)
	out = strconv.AppendInt(out, int64(annee), 10)
	out = append(out, '}')
	ann := web.Annotate(r.Context())
	ann.Identifiant = strconv.Itoa(len(rs)) + " identifiers"
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["X-Content-Type-Options"] = hdrNoSniff
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out)
	return err
}

// batchErreur is the place of an identifier the batch could not answer.
type batchErreur struct {
	Identifiant string       `json:"identifiant"`
	Erreur      batchProblem `json:"erreur"`
}

type batchProblem struct {
	Type   string `json:"type"`
	Detail string `json:"detail"`
}
