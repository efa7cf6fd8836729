package bourse

import (
	"strings"
	"testing"
	"time"
)

func TestDecideInscription(t *testing.T) {
	const uai, other UAI = "0781944P", "0341088Y"
	cond := Reponse{Statut: StatutBoursier, TypeDecision: TypeConditionnelle, Echelon: "1"}
	def := Reponse{Statut: StatutBoursier, TypeDecision: TypeDefinitive, Echelon: "1", Raison: RaisonDefinitive}
	validated := Reponse{Statut: StatutBoursier, TypeDecision: TypeDefinitive, Echelon: "1", Raison: RaisonValidationInscription}
	acked := time.Date(2014, 10, 1, 0, 0, 0, 0, time.UTC)
	here := &Validation{UAI: uai}
	elsewhere := &Validation{UAI: other}
	hereAcked := &Validation{UAI: uai, AcquitteeLe: &acked}
	ins := Inscription{Type: TypeInscription, UAI: uai}
	ann := Inscription{Type: TypeAnnulation, UAI: uai}
	for _, tc := range []struct {
		name string
		in   Inscription
		c    Contexte
		want Issue
	}{
		{"conditional, vœu at the UAI", ins, Contexte{Reponse: cond, Voeux: []UAI{other, uai}}, Issue{Etat: EtatValidee, Validate: true}},
		{"conditional, no vœu at the UAI", ins, Contexte{Reponse: cond, Voeux: []UAI{other}}, Issue{Etat: EtatARetraiter, Motif: MotifVoeuNonCorrespondant}},
		{"validated elsewhere", ins, Contexte{Reponse: validated, Voeux: []UAI{uai}, Validation: elsewhere}, Issue{Etat: EtatARetraiter, Motif: MotifDoubleInscription}},
		{"validated here already", ins, Contexte{Reponse: validated, Voeux: []UAI{uai}, Validation: here}, Issue{Etat: EtatDejaValidee}},
		{"not processed", ins, Contexte{Reponse: Reponse{Statut: StatutEnAttente, Raison: RaisonNonTraite}}, Issue{Etat: EtatEnAttenteDecision}},
		{"missing documents", ins, Contexte{Reponse: Reponse{Statut: StatutEnAttente, Raison: RaisonPiecesManquantes}}, Issue{Etat: EtatEnAttenteDecision}},
		{"progression to verify", ins, Contexte{Reponse: Reponse{Statut: StatutEnAttente, Raison: RaisonProgressionAVerifier}}, Issue{Etat: EtatEnAttenteDecision}},
		{"rejected", ins, Contexte{Reponse: Reponse{Statut: StatutNonBoursier}}, Issue{Etat: EtatRejet}},
		{"already definitive in Aglaé", ins, Contexte{Reponse: def, Voeux: []UAI{uai}}, Issue{Etat: EtatDejaDefinitive}},
		{"unknown", ins, Contexte{Reponse: Reponse{Statut: StatutInconnu}}, Issue{Etat: EtatInconnu}},
		{"someone else's number", ins, Contexte{Reponse: Reponse{Statut: StatutEnAttente, Anomalie: AnomalieIdentiteDifferente}}, Issue{Etat: EtatInconnu}},
		{"annulation before acknowledgment", ann, Contexte{Reponse: validated, Validation: here}, Issue{Etat: EtatAnnulee, Cancel: true}},
		{"annulation after acknowledgment", ann, Contexte{Reponse: validated, Validation: hereAcked}, Issue{Etat: EtatARetraiter, Motif: MotifAnnulationApresPaiement}},
		{"annulation without validation", ann, Contexte{Reponse: cond}, Issue{Etat: EtatSansObjet}},
		{"annulation of another establishment's", ann, Contexte{Reponse: validated, Validation: elsewhere}, Issue{Etat: EtatSansObjet}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DecideInscription(tc.in, tc.c); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecideValidationMakesDefinitive(t *testing.T) {
	x := Dossier{NumeroDossier: "2014MON1111037734L", Identifiant: "1111037734L", Annee: 2014, Etat: EtatValide,
		Decision: &Decision{Nature: NatureConditionnelle, Echelon: "1"}}
	q := Query{Identifiant: "1111037734L", Annee: 2014}
	if r := Decide(q, []Dossier{x}, nil); r.TypeDecision != TypeConditionnelle {
		t.Fatalf("before: %+v", r)
	}
	x.Validee = true
	r := Decide(q, []Dossier{x}, nil)
	if r.Statut != StatutBoursier || r.TypeDecision != TypeDefinitive || r.Raison != RaisonValidationInscription || r.Echelon != "1" {
		t.Fatalf("after: %+v", r)
	}
	x.Decision = &Decision{Nature: NatureRejet}
	if r := Decide(q, []Dossier{x}, nil); r.Statut != StatutNonBoursier {
		t.Fatalf("a rejection in Aglaé wins over a validation: %+v", r)
	}
}

func TestComputeValidation(t *testing.T) {
	v := ComputeValidation(2014, "1", 166500)
	if len(v.Mensualites) != 10 {
		t.Fatalf("%d instalments", len(v.Mensualites))
	}
	var sum int64
	for i, m := range v.Mensualites {
		sum += m.Montant
		if m.Montant != 16650 {
			t.Errorf("instalment %d: %d cents", i, m.Montant)
		}
	}
	if sum != 166500 {
		t.Errorf("sum %d", sum)
	}
	if first, last := v.Mensualites[0].Mois, v.Mensualites[9].Mois; first != time.Date(2014, 9, 1, 0, 0, 0, 0, time.UTC) || last != time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("months %v to %v", first, last)
	}
	want := "Décision définitive : Attribution à l'échelon 1.\nMontant annuel : 1665,00 €.\n" +
		"Ce montant est calculé sur la base de 10 mensualités correspondant au montant de votre échelon versées de septembre 2014 à juin 2015."
	if v.Notification != want {
		t.Errorf("notification:\n%s\nwant:\n%s", v.Notification, want)
	}
	// Cents that do not divide go to the last instalment.
	v = ComputeValidation(2023, "0bis", 145403)
	if v.Mensualites[0].Montant != 14540 || v.Mensualites[9].Montant != 14543 {
		t.Errorf("uneven: %d … %d", v.Mensualites[0].Montant, v.Mensualites[9].Montant)
	}
	if got := FormatDecimal(166500); got != "1665.00" {
		t.Errorf("FormatDecimal: %s", got)
	}
}

func TestEvenementValidate(t *testing.T) {
	ok := Evenement{IdEvenement: "ev-1", Type: "INSCRIPTION", Identifiant: "1111037734L", Annee: 2014,
		CodeEtablissement: "0781944P", Formation: Formation{Code: "L1MED", Libelle: "Licence"}, DateInscription: "2014-09-02"}
	in, err := ok.Validate(Appelant{})
	if err != nil {
		t.Fatal(err)
	}
	if in.UAI != "0781944P" || in.Query.Identifiant != "1111037734L" || in.Query.Annee != 2014 {
		t.Fatalf("%+v", in)
	}
	for _, tc := range []struct {
		name, field string
		edit        func(*Evenement)
		a           Appelant
	}{
		{"no id", "idEvenement", func(e *Evenement) { e.IdEvenement = " " }, Appelant{}},
		{"long id", "idEvenement", func(e *Evenement) { e.IdEvenement = strings.Repeat("x", 101) }, Appelant{}},
		{"bad type", "type", func(e *Evenement) { e.Type = "DESINSCRIPTION" }, Appelant{}},
		{"no year", "anneeUniversitaire", func(e *Evenement) { e.Annee = 0 }, Appelant{}},
		{"no UAI", "codeEtablissement", func(e *Evenement) { e.CodeEtablissement = "" }, Appelant{}},
		{"bad UAI key", "codeEtablissement", func(e *Evenement) { e.CodeEtablissement = "0781944A" }, Appelant{}},
		{"another establishment", "codeEtablissement", func(e *Evenement) {}, Appelant{UAI: "0341088Y"}},
		{"bad INE", "identifiant", func(e *Evenement) { e.Identifiant = "1111037734A" }, Appelant{}},
		{"no student", "identifiant", func(e *Evenement) { e.Identifiant = "" }, Appelant{}},
		{"partial identity", "prenom", func(e *Evenement) { e.Nom = "BOULET" }, Appelant{}},
		{"no formation", "formation.code", func(e *Evenement) { e.Formation.Code = "" }, Appelant{}},
		{"bad date", "dateInscription", func(e *Evenement) { e.DateInscription = "02/09/2014" }, Appelant{}},
		{"date of another year", "dateInscription", func(e *Evenement) { e.DateInscription = "2019-09-02" }, Appelant{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ok
			tc.edit(&e)
			_, err := e.Validate(tc.a)
			be, isErr := err.(*Error)
			if !isErr || be.Kind != KindInvalid || be.Field != tc.field {
				t.Fatalf("got %v, want an Invalid error about %s", err, tc.field)
			}
		})
	}
}

func TestEmpreinte(t *testing.T) {
	e := Evenement{IdEvenement: "ev-1", Type: "INSCRIPTION", Identifiant: "1111037734L", Annee: 2014,
		CodeEtablissement: "0781944P", Formation: Formation{Code: "L1MED"}, DateInscription: "2014-09-02"}
	a, _ := e.Validate(Appelant{})
	e.Identifiant = " 1111037734l "
	b, _ := e.Validate(Appelant{})
	if a.Empreinte() != b.Empreinte() {
		t.Error("the same content, normalised, must have the same digest")
	}
	e.Formation.Code = "L2MED"
	c, _ := e.Validate(Appelant{})
	if a.Empreinte() == c.Empreinte() {
		t.Error("other content, same digest")
	}
}
