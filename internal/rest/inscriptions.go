package rest

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/web"
)

// InscriptionStore keeps the registration events (postgres.Inscriptions).
type InscriptionStore interface {
	// Receive stores an event and queues it; created is false for a
	// replay. Errors: Conflict, Unavailable, Internal.
	Receive(ctx context.Context, clientID string, in bourse.Inscription) (bourse.Recu, bool, error)
	// Recu returns a receipt of the client. Errors: NotFound, Unavailable, Internal.
	Recu(ctx context.Context, clientID, idRecu string) (bourse.Recu, error)
	// Waiting lists the events in state etat. Errors: Unavailable, Internal.
	Waiting(ctx context.Context, etat bourse.EtatInscription, academie string, uai bourse.UAI, limit int) ([]bourse.Marquee, error)
	// Settle records the CROUS's decision. Errors: NotFound, Invalid, Unavailable, Internal.
	Settle(ctx context.Context, academie, idRecu string, r bourse.Reexamen) (bourse.Recu, error)
	// AcademieOf is the académie of a CROUS's client, "" for none.
	AcademieOf(ctx context.Context, clientID string) (string, error)
}

// Operation names of the registration routes, for the access log.
const (
	opPostInscription  = "POST inscription"
	opGetInscription   = "GET inscription"
	opGetARetraiter    = "GET a-retraiter"
	opPostARetraiter   = "POST a-retraiter"
	opGetControleInscr = "GET controle inscriptions"
)

// maxListe bounds the rows of a list of waiting registrations.
const maxListe = 10_000

// MountInscriptions registers the registration routes on r:
//
//	POST /v1/inscriptions                                  a registration event (201, or 200 for a replay)
//	GET  /v1/inscriptions/{idRecu}                         what became of it
//	GET  /v1/academies/{academie}/a-retraiter              the CROUS's marked registrations (JSON, CSV)
//	POST /v1/academies/{academie}/a-retraiter/{idRecu}     the CROUS settles one
//	GET  /v1/etablissements/{uai}/controles/a-retraiter    the establishment's control lists
//	GET  /v1/etablissements/{uai}/controles/en-attente-decision
func MountInscriptions(r chi.Router, store InscriptionStore, opts Options) {
	h := &inscriptionRoutes{api: New(nil, opts), store: store}
	r.Post("/v1/inscriptions", h.api.handle(opPostInscription, h.post))
	r.Get("/v1/inscriptions/{idRecu}", h.api.handle(opGetInscription, h.get))
	r.Get("/v1/academies/{academie}/a-retraiter", h.api.handle(opGetARetraiter, h.getARetraiter))
	r.Post("/v1/academies/{academie}/a-retraiter/{idRecu}", h.api.handle(opPostARetraiter, h.postARetraiter))
	r.Get("/v1/etablissements/{uai}/controles/a-retraiter", h.api.handle(opGetControleInscr, h.controle(bourse.EtatARetraiter)))
	r.Get("/v1/etablissements/{uai}/controles/en-attente-decision", h.api.handle(opGetControleInscr, h.controle(bourse.EtatEnAttenteDecision)))
}

type inscriptionRoutes struct {
	api   *API
	store InscriptionStore
}

// evenementBody is the body of POST /v1/inscriptions.
type evenementBody struct {
	IdEvenement       string        `json:"idEvenement"`
	Type              string        `json:"type"`
	Identifiant       string        `json:"identifiant"`
	Nom               string        `json:"nom"`
	Prenom            string        `json:"prenom"`
	DateNaissance     string        `json:"dateNaissance"`
	Annee             yearValue     `json:"anneeUniversitaire"`
	CodeEtablissement string        `json:"codeEtablissement"`
	Formation         formationBody `json:"formation"`
	DateInscription   string        `json:"dateInscription"`
}

type formationBody struct {
	Code    string `json:"code"`
	Libelle string `json:"libelle"`
}

var evenementShape = &objectShape{
	fields: []string{"idEvenement", "type", "identifiant", "nom", "prenom", "dateNaissance", "anneeUniversitaire",
		"codeEtablissement", "formation", "dateInscription"},
	aliases: map[string]int{"id": 0, "idevent": 0, "ine": 2, "nne": 2, "annee": 6, "uai": 7, "date": 9},
	example: `{"idEvenement":"IA-2014-000123","type":"INSCRIPTION","identifiant":"1111037734L","anneeUniversitaire":2014,` +
		`"codeEtablissement":"0341088Y","formation":{"code":"PACES","libelle":"Diplômes de santé, 1re année"},"dateInscription":"2014-09-02"}`,
	want: func(ptr jsontext.Pointer) string {
		switch string(ptr) {
		case "/anneeUniversitaire":
			return "an integer year"
		case "/formation":
			return "an object {code, libelle}"
		}
		return "a string"
	},
}

func (h *inscriptionRoutes) post(w http.ResponseWriter, r *http.Request) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	buf, err := readBody(r)
	if err != nil {
		return err
	}
	var b evenementBody
	err = decodeObject(*buf, &b, evenementShape)
	putBody(buf)
	if err != nil {
		return err
	}
	a, _ := bourse.AppelantFrom(r.Context())
	in, err := bourse.Evenement{IdEvenement: b.IdEvenement, Type: b.Type, Identifiant: b.Identifiant, Nom: b.Nom,
		Prenom: b.Prenom, DateNaissance: b.DateNaissance, Annee: int(b.Annee), CodeEtablissement: b.CodeEtablissement,
		Formation: bourse.Formation{Code: b.Formation.Code, Libelle: b.Formation.Libelle}, DateInscription: b.DateInscription,
	}.Validate(a)
	if err != nil {
		return err
	}
	rec, created, err := h.store.Receive(r.Context(), a.ClientID, in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/inscriptions/"+rec.IdRecu)
	}
	return writeJSON(w, status, toRecu(rec))
}

func (h *inscriptionRoutes) get(w http.ResponseWriter, r *http.Request) error {
	a, _ := bourse.AppelantFrom(r.Context())
	rec, err := h.store.Recu(r.Context(), a.ClientID, chi.URLParam(r, "idRecu"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toRecu(rec))
}

// academie returns the {academie} of the path once it checked that the
// authenticated client is that académie's CROUS.
func (h *inscriptionRoutes) academie(r *http.Request) (string, error) {
	aca, err := bourse.ValidAcademie("academie", chi.URLParam(r, "academie"))
	if err != nil {
		return "", err
	}
	c, ok := auth.ClientFrom(r.Context())
	if !ok {
		return "", web.Errorf(web.Forbidden, "no authenticated API client")
	}
	own, err := h.store.AcademieOf(r.Context(), c.ID)
	if err != nil {
		return "", err
	}
	switch {
	case own == "":
		return "", web.Errorf(web.Forbidden, "the marked registrations are for the CROUS's API clients; this client belongs to no académie")
	case own != aca:
		return "", web.Errorf(web.Forbidden, "the marked registrations are for the CROUS's API clients; this client belongs to another académie")
	}
	return aca, nil
}

func (h *inscriptionRoutes) getARetraiter(w http.ResponseWriter, r *http.Request) error {
	aca, err := h.academie(r)
	if err != nil {
		return err
	}
	return h.list(w, r, bourse.EtatARetraiter, aca, "", "a-retraiter-"+aca+".csv")
}

func (h *inscriptionRoutes) controle(etat bourse.EtatInscription) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		uai, err := etablissement(r)
		if err != nil {
			return err
		}
		nom := "a-retraiter"
		if etat == bourse.EtatEnAttenteDecision {
			nom = "en-attente-decision"
		}
		return h.list(w, r, etat, "", bourse.UAI(uai), nom+"-"+uai+".csv")
	}
}

func (h *inscriptionRoutes) list(w http.ResponseWriter, r *http.Request, etat bourse.EtatInscription, aca string, uai bourse.UAI, filename string) error {
	format, err := negotiate(r.Header.Values("Accept"))
	if err != nil {
		return err
	}
	ms, err := h.store.Waiting(r.Context(), etat, aca, uai, maxListe)
	if err != nil {
		return err
	}
	if format != "csv" {
		out := make([]marqueeJSON, len(ms))
		for i, m := range ms {
			out[i] = toMarquee(m)
		}
		body, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return send(w, format, filename, body)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"idRecu", "etat", "motif", "numeroDossier", "academie", "identifiant", "anneeUniversitaire",
		"codeEtablissement", "formationCode", "formationLibelle", "dateInscription", "recuLe"})
	for _, m := range ms {
		_ = cw.Write([]string{m.IdRecu, string(m.Etat), string(m.Motif), m.NumeroDossier, m.Academie, m.Identifiant,
			strconv.Itoa(m.Annee), string(m.UAI), m.Formation.Code, m.Formation.Libelle,
			m.DateInscription.Format(time.DateOnly), m.RecuLe.In(bourse.Paris).Format(time.RFC3339)})
	}
	cw.Flush()
	return send(w, format, filename, buf.Bytes())
}

type reexamenBody struct {
	Decision string `json:"decision"`
	Motif    string `json:"motif"`
}

var reexamenShape = &objectShape{
	fields:  []string{"decision", "motif"},
	example: `{"decision":"VALIDER"}`,
	want:    func(jsontext.Pointer) string { return "a string" },
}

func (h *inscriptionRoutes) postARetraiter(w http.ResponseWriter, r *http.Request) error {
	aca, err := h.academie(r)
	if err != nil {
		return err
	}
	if err := checkContentType(r); err != nil {
		return err
	}
	buf, err := readBody(r)
	if err != nil {
		return err
	}
	var b reexamenBody
	err = decodeObject(*buf, &b, reexamenShape)
	putBody(buf)
	if err != nil {
		return err
	}
	re, err := bourse.Reexamen{Decision: bourse.DecisionCrous(b.Decision), Motif: b.Motif}.Validate()
	if err != nil {
		return err
	}
	rec, err := h.store.Settle(r.Context(), aca, chi.URLParam(r, "idRecu"), re)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toRecu(rec))
}

// recuJSON is a receipt on the wire.
type recuJSON struct {
	IdRecu      string      `json:"idRecu"`
	IdEvenement string      `json:"idEvenement"`
	Etat        string      `json:"etat"`
	Motif       string      `json:"motif,omitempty"`
	RecuLe      string      `json:"recuLe"`
	TraiteLe    string      `json:"traiteLe,omitempty"`
	Validation  *Validation `json:"validation,omitempty"`
}

// Validation is a validation on the wire: in a receipt, and in the JSON
// Lines `validations --depuis` hands to Aglaé.
type Validation struct {
	ID                 int64            `json:"id"`
	NumeroDossier      string           `json:"numeroDossier"`
	Identifiant        string           `json:"identifiant"`
	AnneeUniversitaire int              `json:"anneeUniversitaire"`
	CodeEtablissement  string           `json:"codeEtablissement"`
	Echelon            string           `json:"echelon"`
	Bareme             int              `json:"bareme"`
	MontantAnnuel      jsontext.Value   `json:"montantAnnuel"`
	Mensualites        []mensualiteJSON `json:"mensualites"`
	Notification       string           `json:"notification"`
	AcquitteeLe        string           `json:"acquitteeLe,omitempty"`
	AnnuleeLe          string           `json:"annuleeLe,omitempty"`
}

type mensualiteJSON struct {
	Mois    string         `json:"mois"`
	Montant jsontext.Value `json:"montant"`
}

func stamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(bourse.Paris).Format(time.RFC3339)
}

func toRecu(r bourse.Recu) recuJSON {
	out := recuJSON{IdRecu: r.IdRecu, IdEvenement: r.IdEvenement, Etat: string(r.Etat), Motif: string(r.Motif),
		RecuLe: stamp(&r.RecuLe), TraiteLe: stamp(r.TraiteLe)}
	if r.Validation != nil {
		v := ToValidation(*r.Validation)
		out.Validation = &v
	}
	return out
}

// ToValidation converts a validation to its wire form, the one
// `validations --depuis` writes too.
func ToValidation(v bourse.Validation) Validation {
	out := Validation{ID: v.ID, NumeroDossier: v.NumeroDossier, Identifiant: v.Identifiant, AnneeUniversitaire: v.Annee,
		CodeEtablissement: string(v.UAI), Echelon: v.Echelon, Bareme: v.Bareme,
		MontantAnnuel: jsontext.Value(bourse.FormatDecimal(v.MontantAnnuel)), Notification: v.Notification,
		AcquitteeLe: stamp(v.AcquitteeLe), AnnuleeLe: stamp(v.AnnuleeLe)}
	for _, m := range v.Mensualites {
		out.Mensualites = append(out.Mensualites, mensualiteJSON{Mois: m.Mois.Format("2006-01"),
			Montant: jsontext.Value(bourse.FormatDecimal(m.Montant))})
	}
	return out
}

type marqueeJSON struct {
	IdRecu             string        `json:"idRecu"`
	Etat               string        `json:"etat"`
	Motif              string        `json:"motif,omitempty"`
	NumeroDossier      string        `json:"numeroDossier,omitempty"`
	Academie           string        `json:"academie,omitempty"`
	Identifiant        string        `json:"identifiant,omitempty"`
	AnneeUniversitaire int           `json:"anneeUniversitaire"`
	CodeEtablissement  string        `json:"codeEtablissement"`
	Formation          formationBody `json:"formation"`
	DateInscription    string        `json:"dateInscription"`
	RecuLe             string        `json:"recuLe"`
}

func toMarquee(m bourse.Marquee) marqueeJSON {
	return marqueeJSON{IdRecu: m.IdRecu, Etat: string(m.Etat), Motif: string(m.Motif), NumeroDossier: m.NumeroDossier,
		Academie: m.Academie, Identifiant: m.Identifiant, AnneeUniversitaire: m.Annee, CodeEtablissement: string(m.UAI),
		Formation:       formationBody{Code: m.Formation.Code, Libelle: m.Formation.Libelle},
		DateInscription: m.DateInscription.Format(time.DateOnly), RecuLe: stamp(&m.RecuLe)}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["X-Content-Type-Options"] = hdrNoSniff
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}
