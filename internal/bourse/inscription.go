package bourse

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TypeEvenement is the kind of a registration event Apogée sends.
type TypeEvenement string

// The kinds of registration event.
const (
	TypeInscription TypeEvenement = "INSCRIPTION" // the student registered
	TypeAnnulation  TypeEvenement = "ANNULATION"  // the registration was cancelled
)

// Formation is the programme a student registers in.
type Formation struct {
	Code    string
	Libelle string
}

// Evenement is a registration event as a caller sent it, before validation.
type Evenement struct {
	IdEvenement       string // the caller's own id, unique per API client
	Type              string
	Identifiant       string
	Nom               string
	Prenom            string
	DateNaissance     string // YYYY-MM-DD
	Annee             int    // required: an event belongs to one year
	CodeEtablissement string // UAI, required
	Formation         Formation
	DateInscription   string // YYYY-MM-DD
}

// Inscription is a registration event once validated: the student as a
// lookup designates them, the year, the establishment, the programme.
type Inscription struct {
	IdEvenement     string
	Type            TypeEvenement
	Query           Query // the student and the year, as a lookup takes them
	UAI             UAI
	Formation       Formation
	DateInscription time.Time // a date: midnight UTC
}

// Bounds of the free-text fields of an event.
const (
	maxIdEvenement   = 100
	maxCodeFormation = 50
	maxLibelle       = 200
)

// Validate checks e as the caller a sent it, with the very rules of a
// lookup (Saisie.Validate), and returns the registration. A client bound to
// an establishment may only send that establishment's events. The error is
// of kind Invalid and names the field.
func (e Evenement) Validate(a Appelant) (Inscription, error) {
	var in Inscription
	id, err := validateText("idEvenement", e.IdEvenement, maxIdEvenement, true)
	if err != nil {
		return in, err
	}
	in.IdEvenement = id
	switch TypeEvenement(e.Type) {
	case TypeInscription, TypeAnnulation:
		in.Type = TypeEvenement(e.Type)
	case "":
		return in, Invalid("type", "required: INSCRIPTION or ANNULATION")
	default:
		return in, Invalid("type", "must be INSCRIPTION or ANNULATION")
	}
	if e.Annee == 0 {
		return in, Invalid("anneeUniversitaire", "required: the academic year of the registration")
	}
	if strings.TrimSpace(e.CodeEtablissement) == "" {
		return in, Invalid("codeEtablissement", "required: the UAI of the establishment the student registered in")
	}
	q, err := Saisie{Identifiant: e.Identifiant, CodeEtablissement: e.CodeEtablissement, Annee: e.Annee,
		Nom: e.Nom, Prenom: e.Prenom, DateNaissance: e.DateNaissance}.Validate(e.Annee)
	if err != nil {
		return in, err
	}
	in.Query = q
	in.UAI = UAI(q.CodeEtablissement)
	if a.UAI != "" && a.UAI != in.UAI {
		return in, Invalid("codeEtablissement", "this client may only send the events of its own establishment, %s", a.UAI)
	}
	if in.Formation.Code, err = validateText("formation.code", e.Formation.Code, maxCodeFormation, true); err != nil {
		return in, err
	}
	if in.Formation.Libelle, err = validateText("formation.libelle", e.Formation.Libelle, maxLibelle, false); err != nil {
		return in, err
	}
	if strings.TrimSpace(e.DateInscription) == "" {
		return in, Invalid("dateInscription", "required: a date YYYY-MM-DD")
	}
	t, perr := time.Parse(time.DateOnly, strings.TrimSpace(e.DateInscription))
	if perr != nil {
		return in, Invalid("dateInscription", "must be a date YYYY-MM-DD")
	}
	// A registration for year y happens between the spring of y and the
	// summer of y+1.
	if t.Year() < in.Query.Annee-1 || t.Year() > in.Query.Annee+1 {
		return in, Invalid("dateInscription", "must fall within the academic year %d–%d", in.Query.Annee, in.Query.Annee+1)
	}
	in.DateInscription = t
	return in, nil
}

func validateText(field, s string, maxLen int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" && required:
		return "", Invalid(field, "required")
	case !utf8.ValidString(s):
		return "", Invalid(field, "must be valid UTF-8")
	case len(s) > maxLen:
		return "", Invalid(field, "longer than %d bytes", maxLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", Invalid(field, "contains a control character")
	}
	return s, nil
}

// Empreinte is a digest of what in says, the caller's id included: the same
// id sent again with the same content is a replay, with other content a
// conflict.
func (in Inscription) Empreinte() string {
	var b strings.Builder
	field := func(s string) { b.WriteString(strconv.Itoa(len(s))); b.WriteByte(':'); b.WriteString(s) }
	field(in.IdEvenement)
	field(string(in.Type))
	field(in.Query.Identifiant)
	if id := in.Query.Identity; id != nil {
		k := id.key()
		field(k.nom)
		field(k.prenom)
		field(id.DateNaissance.Format(time.DateOnly))
	} else {
		field("")
	}
	field(strconv.Itoa(in.Query.Annee))
	field(string(in.UAI))
	field(in.Formation.Code)
	field(in.Formation.Libelle)
	field(in.DateInscription.Format(time.DateOnly))
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// EtatInscription is what became of a registration event.
type EtatInscription string

// The states of an event. RECU is the only one before processing; the
// others are its outcomes.
const (
	EtatRecu              EtatInscription = "RECU"                // stored, not processed yet
	EtatValidee           EtatInscription = "VALIDEE"             // a validation was made from it
	EtatARetraiter        EtatInscription = "A_RETRAITER"         // marked for the CROUS, see Motif
	EtatEnAttenteDecision EtatInscription = "EN_ATTENTE_DECISION" // the dossier waits: applied by the import that brings the decision
	EtatRejet             EtatInscription = "REJET"               // the dossier was refused: nothing paid
	EtatDejaDefinitive    EtatInscription = "DEJA_DEFINITIVE"     // Aglaé's decision is already definitive
	EtatDejaValidee       EtatInscription = "DEJA_VALIDEE"        // the student is already validated at this establishment
	EtatInconnu           EtatInscription = "INCONNU"             // no dossier for the student and year
	EtatRefusee           EtatInscription = "REFUSEE"             // the CROUS refused the marked dossier
	EtatAnnulee           EtatInscription = "ANNULEE"             // cancelled by an ANNULATION (or an ANNULATION that cancelled)
	EtatSansObjet         EtatInscription = "SANS_OBJET"          // an ANNULATION with nothing to cancel
)

// Motif says why an event is A_RETRAITER.
type Motif string

// The reasons a dossier is marked for the CROUS.
const (
	MotifVoeuNonCorrespondant    Motif = "VOEU_NON_CORRESPONDANT"    // conditional, but no vœu at the event's UAI
	MotifDoubleInscription       Motif = "DOUBLE_INSCRIPTION"        // already validated at another establishment
	MotifAnnulationApresPaiement Motif = "ANNULATION_APRES_PAIEMENT" // cancelled after Aglaé acknowledged the validation
)

// Contexte is what the rules need to know of the student for an event's
// year: the lookup's answer for them, the UAIs of the vœux of the dossier
// that gave it, and their live validation, if any.
type Contexte struct {
	Reponse    Reponse
	Voeux      []UAI
	Validation *Validation // nil: none, or cancelled
}

// Issue is the outcome of an event.
type Issue struct {
	Etat  EtatInscription
	Motif Motif // with A_RETRAITER only
	// Validate: make a validation (Etat VALIDEE). Cancel: cancel the
	// context's validation (an ANNULATION before Aglaé's acknowledgment).
	Validate, Cancel bool
}

// DecideInscription is the rule of SPEC §9: a pure function from an event
// and the student's situation to its outcome.
func DecideInscription(in Inscription, c Contexte) Issue {
	r := c.Reponse
	if in.Type == TypeAnnulation {
		switch v := c.Validation; {
		case v == nil || v.UAI != in.UAI:
			return Issue{Etat: EtatSansObjet}
		case v.AcquitteeLe != nil:
			return Issue{Etat: EtatARetraiter, Motif: MotifAnnulationApresPaiement}
		default:
			return Issue{Etat: EtatAnnulee, Cancel: true}
		}
	}
	switch {
	case r.Anomalie == AnomalieIdentiteDifferente || r.Statut == StatutInconnu:
		return Issue{Etat: EtatInconnu}
	case r.Statut == StatutNonBoursier:
		return Issue{Etat: EtatRejet}
	case r.Statut == StatutEnAttente:
		return Issue{Etat: EtatEnAttenteDecision}
	case c.Validation != nil && c.Validation.UAI == in.UAI:
		return Issue{Etat: EtatDejaValidee}
	case c.Validation != nil:
		return Issue{Etat: EtatARetraiter, Motif: MotifDoubleInscription}
	case r.TypeDecision == TypeDefinitive:
		return Issue{Etat: EtatDejaDefinitive}
	}
	// BOURSIER CONDITIONNELLE
	for _, u := range c.Voeux {
		if u == in.UAI {
			return Issue{Etat: EtatValidee, Validate: true}
		}
	}
	return Issue{Etat: EtatARetraiter, Motif: MotifVoeuNonCorrespondant}
}

// Recu is the receipt of an event: its id in the connector and what
// became of it.
type Recu struct {
	IdRecu      string
	IdEvenement string
	Etat        EtatInscription
	Motif       Motif
	RecuLe      time.Time
	TraiteLe    *time.Time // nil while RECU
	// Validation is the validation the event made, if any.
	Validation *Validation
}

// Marquee is an event waiting for someone: the CROUS (A_RETRAITER) or an
// import (EN_ATTENTE_DECISION).
type Marquee struct {
	IdRecu          string
	ClientID        string
	Etat            EtatInscription
	Motif           Motif
	NumeroDossier   string
	Academie        string
	Identifiant     string
	Annee           int
	UAI             UAI
	Formation       Formation
	DateInscription time.Time
	RecuLe          time.Time
}
