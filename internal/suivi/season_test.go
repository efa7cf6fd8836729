package suivi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/suivi"
)

const (
	annee = 2025
	uaiA  = "0781944P" // UVSQ: the establishment whose season is played
	uaiB  = "0751717J" // Sorbonne: another establishment

	// The students establishment A asks about, and what Aglaé says of them
	// in testdata/extract.jsonl, then in testdata/extract-novembre.jsonl.
	quintard  = "2000000011F" // BOURSIER DEFINITIVE: final, never re-asked
	vasserot  = "2000000022T" // NON_BOURSIER: final
	walczak   = "2000000033E" // EN_ATTENTE (not processed), still in November
	yverneau  = "2000000044S" // EN_ATTENTE (missing documents) -> BOURSIER CONDITIONNELLE
	zambrano  = "2000000055D" // EN_ATTENTE (progression to verify) -> BOURSIER DEFINITIVE
	barracand = "2000000077C" // BOURSIER CONDITIONNELLE -> BOURSIER DEFINITIVE
	chauveau  = "2000000088P" // EN_ATTENTE (no decision yet) -> NON_BOURSIER
	okonkwo   = "2000000111P" // BOURSIER CONDITIONNELLE, unchanged
	ndiaye    = "2000000144A" // asked with another person's identity: IDENTITE_DIFFERENTE
	kergoat   = "2000000166Z" // no dossier (INCONNU) -> a dossier not processed yet (EN_ATTENTE)
	huchet    = "2023A12345B" // HUCHET's number in Aglaé: EN_ATTENTE -> BOURSIER CONDITIONNELLE
	esnault   = "2000000100C" // asked by B only

	provHuchet  = "2025D54321A" // the provisional INE Apogée gave HUCHET
	provOkonkwo = "2025D12345K" // the provisional INE Apogée gave OKONKWO, corrected later
)

// mistyped is an identifier Aglaé never knew: a number typed wrong.
var mistyped = "2000000199" + string(ident.BEAKey("2000000199"))

// season is the state the season leaves for the checks.
type season struct {
	pool     *pgxpool.Pool
	store    suivi.Store
	t0       time.Time // just before the re-check
	replayed time.Time // just before HUCHET's registration is replayed
	end      time.Time // after the last consultation
	result   suivi.Result
}

// TestSeason plays a registration season of establishment A: Apogée asks
// about its students (answered EN_ATTENTE, INCONNU, BOURSIER, by identity,
// with another person's identity…), a newer Aglaé extract moves decisions
// on, the nightly re-check re-asks the students still waiting, and Apogée
// replays one registration. The follow-up and every control list then show
// exactly the expected students, another establishment gets 403, and the
// report reaches a real SMTP server with its CSV files.
func TestSeason(t *testing.T) {
	s := playSeason(t)
	ctx := context.Background()

	t.Run("recheck", func(t *testing.T) {
		assert.Equal(t, suivi.Result{
			Candidates: 11, // walczak yverneau zambrano barracand chauveau okonkwo kergoat mistyped provHuchet provOkonkwo ndiaye
			Reasked:    8, Changes: 5, NotReasked: 3, Batches: 1,
		}, s.result)
		// Only the re-askable ones were asked, each once, as RECHECK for A.
		var ids []string
		rows, err := s.pool.Query(ctx, `SELECT identifiant FROM connecteur.consultation
			WHERE canal = 'RECHECK' AND uai = $1 AND client_id = 'recheck' ORDER BY identifiant`, uaiA)
		require.NoError(t, err)
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			ids = append(ids, id)
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, []string{walczak, yverneau, zambrano, barracand, chauveau, okonkwo, kergoat, mistyped}, ids)
		var others int
		require.NoError(t, s.pool.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation
			WHERE canal = 'RECHECK' AND uai <> $1`, uaiA).Scan(&others))
		assert.Zero(t, others, "B's students are not re-asked")
	})

	t.Run("suivi", func(t *testing.T) {
		cs, err := suivi.Suivi(ctx, s.store, uaiA, s.t0)
		require.NoError(t, err)
		assert.Equal(t, []string{
			yverneau + " EN_ATTENTE -> BOURSIER CONDITIONNELLE 2 par RECHECK",
			zambrano + " EN_ATTENTE -> BOURSIER DEFINITIVE 2 par RECHECK",
			barracand + " BOURSIER CONDITIONNELLE 0bis -> BOURSIER DEFINITIVE 0bis par RECHECK",
			chauveau + " EN_ATTENTE -> NON_BOURSIER par RECHECK",
			kergoat + " INCONNU -> EN_ATTENTE par RECHECK",
			provHuchet + " EN_ATTENTE IDENTITE " + huchet + " -> BOURSIER CONDITIONNELLE 3 IDENTITE " + huchet + " par SOAP",
		}, summary(cs))
		for _, c := range cs[:5] {
			assert.False(t, c.SeenAt.Before(s.t0), "%s seen at %s, before the re-check", c.Identifiant, c.SeenAt)
			assert.True(t, c.SeenAt.Before(s.replayed), "%s seen at %s, after the re-check", c.Identifiant, c.SeenAt)
			assert.Equal(t, annee, c.AnneeUniversitaire)
		}
		assert.False(t, cs[5].SeenAt.Before(s.replayed))
		assert.Equal(t, suivi.Change{
			Identifiant: chauveau, AnneeUniversitaire: annee, SeenAt: cs[3].SeenAt, SeenBy: bourse.CanalRecheck,
			Before: suivi.Reponse{Statut: bourse.StatutEnAttente, NumeroDossier: "2025VER" + chauveau, Correspondance: bourse.ByIdentifiant},
			After:  suivi.Reponse{Statut: bourse.StatutNonBoursier, NumeroDossier: "2025VER" + chauveau, Correspondance: bourse.ByIdentifiant},
		}, cs[3])

		// Since the start: the same changes (the first answers are no change).
		all, err := suivi.Suivi(ctx, s.store, uaiA, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, summary(cs), summary(all))
		// Since the replay: only the replayed registration.
		cs, err = suivi.Suivi(ctx, s.store, uaiA, s.replayed)
		require.NoError(t, err)
		assert.Equal(t, []string{provHuchet}, identifiants(cs))
		// Nothing later.
		cs, err = suivi.Suivi(ctx, s.store, uaiA, s.end)
		require.NoError(t, err)
		assert.Empty(t, cs)
		// B's students were not re-asked: nothing changed for B.
		cs, err = suivi.Suivi(ctx, s.store, uaiB, time.Time{})
		require.NoError(t, err)
		assert.Empty(t, cs)

		_, err = suivi.Suivi(ctx, s.store, "0781944A", s.t0)
		assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	})

	t.Run("controles", func(t *testing.T) {
		liste := func(nom string) suivi.Controle {
			t.Helper()
			c, err := suivi.Liste(ctx, s.store, uaiA, annee, nom)
			require.NoError(t, err)
			return c
		}
		nd := liste(suivi.ListeNumerosDifferents)
		// provOkonkwo left the list: Apogée now asks with Aglaé's number.
		require.Equal(t, []string{provHuchet}, etudiants(nd))
		assert.Equal(t, huchet, nd.Etudiants[0].IdentifiantAglae)
		assert.Equal(t, bourse.StatutBoursier, nd.Etudiants[0].Statut)
		assert.Equal(t, bourse.TypeConditionnelle, nd.Etudiants[0].TypeDecision)

		ea := liste(suivi.ListeEnAttente)
		assert.Equal(t, []string{walczak, kergoat}, etudiants(ea), "oldest first; the identity conflict is not here")
		assert.True(t, ea.Etudiants[0].Since.Before(s.t0), "walczak has been waiting since the first consultation")
		assert.False(t, ea.Etudiants[1].Since.Before(s.t0), "kergoat waits since the re-check found the dossier")
		assert.Equal(t, 1, ea.Etudiants[0].Consultations, "the re-check's lookups are not the establishment's")

		in := liste(suivi.ListeInconnus)
		require.Equal(t, []string{mistyped}, etudiants(in))
		assert.Equal(t, 2, in.Etudiants[0].Consultations)
		require.NotNil(t, in.Etudiants[0].FirstConsultation)
		require.NotNil(t, in.Etudiants[0].LastConsultation)
		assert.True(t, in.Etudiants[0].FirstConsultation.Before(*in.Etudiants[0].LastConsultation))

		id := liste(suivi.ListeIdentitesDifferentes)
		require.Equal(t, []string{ndiaye}, etudiants(id))
		assert.Equal(t, suivi.Reponse{Statut: bourse.StatutEnAttente, Anomalie: bourse.AnomalieIdentiteDifferente},
			id.Etudiants[0].Reponse, "nothing of the other person's dossier")

		st := liste(suivi.ListeStatuts)
		assert.Equal(t, []suivi.StatutCount{
			{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeDefinitive, Etudiants: 3},     // quintard zambrano barracand
			{Statut: bourse.StatutBoursier, TypeDecision: bourse.TypeConditionnelle, Etudiants: 4}, // yverneau okonkwo provHuchet provOkonkwo
			{Statut: bourse.StatutEnAttente, Etudiants: 3},                                         // walczak kergoat ndiaye
			{Statut: bourse.StatutNonBoursier, Etudiants: 2},                                       // vasserot chauveau
			{Statut: bourse.StatutInconnu, Etudiants: 1},                                           // mistyped
		}, st.Statuts)
		assert.Equal(t, 13, st.Total(), "the identity-only lookup and the 2014 one are not counted")

		stB, err := suivi.Liste(ctx, s.store, uaiB, annee, suivi.ListeStatuts)
		require.NoError(t, err)
		assert.Equal(t, 2, stB.Total(), "B asked about esnault and walczak")
		eaB, err := suivi.Liste(ctx, s.store, uaiB, annee, suivi.ListeEnAttente)
		require.NoError(t, err)
		assert.Equal(t, []string{walczak}, etudiants(eaB))

		old, err := suivi.Liste(ctx, s.store, uaiA, 2014, suivi.ListeStatuts)
		require.NoError(t, err)
		assert.Equal(t, 1, old.StatutCount(bourse.StatutBoursier, bourse.TypeConditionnelle))

		_, err = suivi.Liste(ctx, s.store, uaiA, annee, "boursiers")
		assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	})

	t.Run("http", func(t *testing.T) {
		clientA := auth.Client{ID: "uvsqapogee", Nom: "UVSQ Apogée", UAI: uaiA}
		clientB := auth.Client{ID: "sorbonne", Nom: "Sorbonne", UAI: uaiB}
		integrateur := auth.Client{ID: "integrateur", Nom: "Intégrateur"}
		since := url.QueryEscape(s.t0.Format(time.RFC3339Nano))

		res := get(t, s.store, clientA, "/v1/etablissements/"+uaiA+"/suivi?depuis="+since, "")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, "application/json", res.Header().Get("Content-Type"))
		assert.Equal(t, "no-store", res.Header().Get("Cache-Control"))
		var doc suivi.Document
		require.NoError(t, json.Unmarshal(res.Body.Bytes(), &doc))
		assert.Equal(t, uaiA, doc.UAI)
		assert.Equal(t, []string{yverneau, zambrano, barracand, chauveau, kergoat, provHuchet}, identifiants(doc.Changes))
		assert.NotContains(t, res.Body.String(), "raison", "the internal reason is never sent")
		assert.NotContains(t, res.Body.String(), "PIECES_MANQUANTES")

		res = get(t, s.store, clientA, "/v1/etablissements/"+uaiA+"/suivi?depuis="+since, "text/csv")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, "text/csv; charset=utf-8; header=present", res.Header().Get("Content-Type"))
		lines := strings.Split(strings.TrimSpace(res.Body.String()), "\n")
		require.Len(t, lines, 7)
		assert.True(t, strings.HasPrefix(lines[0], "identifiant,anneeUniversitaire,vuLe,vuPar,avantStatut"), lines[0])
		assert.True(t, strings.HasPrefix(lines[4], chauveau+",2025,"), lines[4])
		assert.Contains(t, lines[4], ",RECHECK,EN_ATTENTE,,,2025VER"+chauveau+",IDENTIFIANT,,,NON_BOURSIER,")

		// The offset's + typed unescaped, as curl users do.
		unescaped := "/v1/etablissements/" + uaiA + "/suivi?depuis=" + s.t0.In(time.FixedZone("", 3600)).Format(time.RFC3339Nano)
		require.Contains(t, unescaped, "+01:00")
		res = get(t, s.store, clientA, unescaped, "")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		require.NoError(t, json.Unmarshal(res.Body.Bytes(), &doc))
		assert.Len(t, doc.Changes, 6)

		res = get(t, s.store, clientA, "/v1/etablissements/"+uaiA+"/controles/en-attente?annee=2025", "")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		var c struct {
			Liste     string `json:"liste"`
			Etudiants []struct {
				Identifiant string `json:"identifiant"`
			} `json:"etudiants"`
		}
		require.NoError(t, json.Unmarshal(res.Body.Bytes(), &c))
		assert.Equal(t, "en-attente", c.Liste)
		require.Len(t, c.Etudiants, 2)
		assert.Equal(t, walczak, c.Etudiants[0].Identifiant)

		res = get(t, s.store, clientA, "/v1/etablissements/"+uaiA+"/controles/statuts?annee=2025", "text/csv, application/json;q=0.5")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())
		assert.Equal(t, "statut,typeDecision,etudiants\nBOURSIER,DEFINITIVE,3\nBOURSIER,CONDITIONNELLE,4\n"+
			"EN_ATTENTE,,3\nNON_BOURSIER,,2\nINCONNU,,1\nTOTAL,,13\n", res.Body.String())
		assert.Equal(t, `attachment; filename="statuts-0781944P-2025.csv"`, res.Header().Get("Content-Disposition"))

		// Only the establishment's own clients.
		for _, tc := range []struct {
			name   string
			client auth.Client
			path   string
		}{
			{"another establishment's follow-up", clientB, "/v1/etablissements/" + uaiA + "/suivi?depuis=" + since},
			{"another establishment's list", clientB, "/v1/etablissements/" + uaiA + "/controles/inconnus"},
			{"an integrator", integrateur, "/v1/etablissements/" + uaiA + "/suivi?depuis=" + since},
			{"in lower case, still A", clientB, "/v1/etablissements/0781944p/controles/statuts"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := get(t, s.store, tc.client, tc.path, "")
				problem(t, res, http.StatusForbidden, "forbidden")
				assert.NotContains(t, res.Body.String(), walczak)
			})
		}
		// B reads its own.
		res = get(t, s.store, clientB, "/v1/etablissements/"+uaiB+"/controles/en-attente?annee=2025", "")
		require.Equal(t, http.StatusOK, res.Code, res.Body.String())

		for _, tc := range []struct{ name, path, accept, typ string }{
			{"bad uai", "/v1/etablissements/0781944X/suivi?depuis=" + since, "", "invalid-input"},
			{"no depuis", "/v1/etablissements/" + uaiA + "/suivi", "", "invalid-input"},
			{"bad depuis", "/v1/etablissements/" + uaiA + "/suivi?depuis=2025-13-01", "", "invalid-input"},
			{"unknown parameter", "/v1/etablissements/" + uaiA + "/suivi?depuis=" + since + "&uai=x", "", "invalid-input"},
			{"unknown list", "/v1/etablissements/" + uaiA + "/controles/boursiers", "", "invalid-input"},
			{"bad year", "/v1/etablissements/" + uaiA + "/controles/inconnus?annee=25", "", "invalid-input"},
			{"year out of range", "/v1/etablissements/" + uaiA + "/controles/inconnus?annee=1999", "", "invalid-input"},
			{"not acceptable", "/v1/etablissements/" + uaiA + "/controles/inconnus", "application/xml", "not-acceptable"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := get(t, s.store, clientA, tc.path, tc.accept)
				status := http.StatusBadRequest
				if tc.typ == "not-acceptable" {
					status = http.StatusNotAcceptable
				}
				problem(t, res, status, tc.typ)
			})
		}
	})

	t.Run("rapport", func(t *testing.T) {
		b, err := suivi.BuildReport(ctx, s.store, uaiA, annee, s.t0)
		require.NoError(t, err)
		text := b.Text()
		for _, want := range []string{
			"établissement 0781944P, année universitaire 2025-2026",
			"BOURSIER DEFINITIVE              3",
			"BOURSIER CONDITIONNELLE          4",
			"numeros-differents           1",
			"en-attente                   2",
			"Suivi : 6 réponse(s) changée(s)",
			"EN_ATTENTE -> NON_BOURSIER : 1",
			"dont 1 devenu(s) NON_BOURSIER",
		} {
			assert.Contains(t, text, want)
		}
		assert.NotContains(t, text, walczak, "the summary names no student")

		srv := startSMTP(t)
		cfg, err := suivi.SMTPFromEnv(mapEnv(map[string]string{
			"SMTP_HOST": "127.0.0.1", "SMTP_PORT": srv.port, "SMTP_TLS": "starttls",
			"SMTP_USERNAME": "aglae", "SMTP_PASSWORD": "s3cret pass", "SMTP_FROM": "Connecteur Aglaé <aglae@uvsq.example.fr>",
			"SMTP_CA_FILE": srv.caFile,
		}))
		require.NoError(t, err)
		require.NoError(t, suivi.Send(ctx, cfg, "scolarite@uvsq.example.fr", b))

		m := srv.received(t)
		assert.Equal(t, "aglae@uvsq.example.fr", m.from)
		assert.Equal(t, []string{"scolarite@uvsq.example.fr"}, m.to)
		assert.True(t, m.tls, "sent over STARTTLS")
		assert.Equal(t, "aglae", m.user, "authenticated")

		msg, err := netmail.ReadMessage(bytes.NewReader(m.data))
		require.NoError(t, err)
		subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		require.NoError(t, err)
		assert.Equal(t, "Connecteur Aglaé : suivi et contrôles des boursiers, 0781944P, année 2025-2026", subject)
		to, err := msg.Header.AddressList("To")
		require.NoError(t, err)
		require.Len(t, to, 1)
		assert.Equal(t, "scolarite@uvsq.example.fr", to[0].Address)

		body, files := readMIME(t, msg)
		assert.Contains(t, body, "Suivi : 6 réponse(s) changée(s)")
		assert.ElementsMatch(t, []string{
			"suivi-0781944P-2025.csv", "statuts-0781944P-2025.csv", "numeros-differents-0781944P-2025.csv",
			"en-attente-0781944P-2025.csv", "inconnus-0781944P-2025.csv", "identites-differentes-0781944P-2025.csv",
		}, keys(files))

		ea := files["en-attente-0781944P-2025.csv"]
		lines := strings.Split(strings.TrimSpace(ea), "\n")
		require.Len(t, lines, 3, ea)
		assert.Equal(t, "identifiant,depuis,consultations,premiereConsultation,derniereConsultation", lines[0])
		assert.True(t, strings.HasPrefix(lines[1], walczak+","), lines[1])
		assert.True(t, strings.HasPrefix(lines[2], kergoat+","), lines[2])
		var want bytes.Buffer
		require.NoError(t, suivi.WriteListe(&want, suivi.FormatCSV, b.Controle(suivi.ListeEnAttente)))
		assert.Equal(t, want.String(), ea, "the attachment is the list, byte for byte")

		nd := files["numeros-differents-0781944P-2025.csv"]
		assert.Contains(t, nd, provHuchet+","+huchet+",BOURSIER,CONDITIONNELLE,3,2025VER"+huchet+",")
		su := files["suivi-0781944P-2025.csv"]
		assert.Equal(t, 7, strings.Count(su, "\n"), su)
		assert.Contains(t, files["inconnus-0781944P-2025.csv"], mistyped+",2,")
	})
}

// playSeason plays the season on a new database.
func playSeason(t *testing.T) season {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, "../../testdata/extract.jsonl")

	// September: Apogée's registration chains ask, for A and B. The
	// consultations are stamped by clk, at the dates of the story.
	clk := &clock{now: time.Date(2025, 9, 15, 8, 0, 0, 0, time.UTC)}
	j := openJournal(t, pool, clk)
	svc := journal.Tracer(&bourse.Service{Store: postgres.NewStore(pool)}, j)
	apogeeA := bourse.WithAppelant(ctx, bourse.Appelant{ClientID: "uvsqapogee", Nom: "UVSQ Apogée", UAI: uaiA, Canal: bourse.CanalSOAP})
	apogeeB := bourse.WithAppelant(ctx, bourse.Appelant{ClientID: "sorbonne", Nom: "Sorbonne", UAI: uaiB, Canal: bourse.CanalREST})
	ask := func(ctx context.Context, in bourse.Saisie, statut bourse.Statut) bourse.Reponse {
		t.Helper()
		if in.Annee == 0 {
			in.Annee = annee
		}
		r, err := svc.Consult(ctx, in)
		require.NoError(t, err)
		require.Equal(t, statut, r.Statut, "%+v", in)
		return r
	}
	byID := func(id string) bourse.Saisie { return bourse.Saisie{Identifiant: id} }

	ask(apogeeA, byID(quintard), bourse.StatutBoursier)
	ask(apogeeA, byID(vasserot), bourse.StatutNonBoursier)
	ask(apogeeA, byID(walczak), bourse.StatutEnAttente)
	ask(apogeeA, byID(yverneau), bourse.StatutEnAttente)
	ask(apogeeA, byID(zambrano), bourse.StatutEnAttente)
	ask(apogeeA, byID(barracand), bourse.StatutBoursier)
	ask(apogeeA, byID(chauveau), bourse.StatutEnAttente)
	ask(apogeeA, byID(kergoat), bourse.StatutInconnu)
	ask(apogeeA, byID(mistyped), bourse.StatutInconnu)
	r := ask(apogeeA, bourse.Saisie{Identifiant: provHuchet, Nom: "Huchet", Prenom: "Océane", DateNaissance: "2003-03-03"}, bourse.StatutEnAttente)
	require.Equal(t, bourse.ByIdentity, r.Correspondance)
	r = ask(apogeeA, bourse.Saisie{Identifiant: provOkonkwo, Nom: "OKONKWO", Prenom: "Chiamaka", DateNaissance: "2006-06-06"}, bourse.StatutBoursier)
	require.Equal(t, okonkwo, r.IdentifiantAglae)
	r = ask(apogeeA, bourse.Saisie{Identifiant: ndiaye, Nom: "Dupont", Prenom: "Marie", DateNaissance: "2005-01-01"}, bourse.StatutEnAttente)
	require.Equal(t, bourse.AnomalieIdentiteDifferente, r.Anomalie)
	// A web registration without a number: no identifier, left out.
	ask(apogeeA, bourse.Saisie{Nom: "Okonkwo", Prenom: "Chiamaka", DateNaissance: "2006-06-06"}, bourse.StatutBoursier)
	// Another year.
	ask(apogeeA, bourse.Saisie{Identifiant: "1111037734L", Annee: 2014}, bourse.StatutBoursier)
	ask(apogeeB, byID(esnault), bourse.StatutBoursier)
	ask(apogeeB, byID(walczak), bourse.StatutEnAttente)
	// October: the gestionnaire corrects OKONKWO's number in Apogée; the
	// mistyped number is typed again.
	clk.set(time.Date(2025, 10, 10, 14, 0, 0, 0, time.UTC))
	ask(apogeeA, byID(okonkwo), bourse.StatutBoursier)
	ask(apogeeA, byID(mistyped), bourse.StatutInconnu)
	closeJournal(t, j)

	// November: a newer extract, decisions moved on.
	pgtest.ImportFile(t, pool, "testdata/extract-novembre.jsonl")

	// The night: the re-check of A, through the traced batch path.
	t0 := clk.set(time.Date(2025, 11, 26, 2, 0, 0, 0, time.UTC))
	j = openJournal(t, pool, clk)
	traced := journal.Tracer(&bourse.Service{Store: postgres.NewStore(pool)}, j)
	store := postgres.NewSuivi(pool)
	res, err := suivi.Recheck(ctx, store, traced, uaiA, annee)
	require.NoError(t, err)
	closeJournal(t, j)

	// The morning: Apogée replays HUCHET's registration, with her identity.
	replayed := clk.set(time.Date(2025, 11, 26, 8, 0, 0, 0, time.UTC))
	j = openJournal(t, pool, clk)
	svc = journal.Tracer(&bourse.Service{Store: postgres.NewStore(pool)}, j)
	ask(apogeeA, bourse.Saisie{Identifiant: provHuchet, Nom: "HUCHET", Prenom: "Océane", DateNaissance: "2003-03-03"}, bourse.StatutBoursier)
	closeJournal(t, j)

	end := clk.Now()
	return season{pool: pool, store: store, t0: t0, replayed: replayed, end: end, result: res}
}

// clock is the season's clock: it reads the time it was set to, one
// millisecond later at every reading, so that every consultation has a
// time of its own, in the order they were made.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (h *clock) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(time.Millisecond)
	return h.now
}

// set moves the clock to t, which must be later than any time it read, and
// returns t.
func (h *clock) set(t time.Time) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !t.After(h.now) {
		panic("the season's clock cannot go back")
	}
	h.now = t
	return t
}

func openJournal(t *testing.T, pool *pgxpool.Pool, clk *clock) *journal.Journal {
	t.Helper()
	j, err := journal.Open(context.Background(), journal.Options{Store: postgres.NewConsultations(pool), SpoolDir: t.TempDir(), Now: clk.Now})
	require.NoError(t, err)
	return j
}

// closeJournal closes j, which writes its records, and checks none was set aside.
func closeJournal(t *testing.T, j *journal.Journal) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, j.Close(ctx))
	st := j.Stats()
	require.Zero(t, st.Rejected)
	require.Zero(t, st.Spooled)
}

// summary writes each change as "ID AVANT -> APRES par CANAL".
func summary(cs []suivi.Change) []string {
	rep := func(r suivi.Reponse) string {
		s := string(r.Statut)
		for _, f := range []string{string(r.TypeDecision), r.Echelon, string(r.Anomalie)} {
			if f != "" {
				s += " " + f
			}
		}
		if r.Correspondance == bourse.ByIdentity {
			s += " IDENTITE " + r.IdentifiantAglae
		}
		return s
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.Identifiant+" "+rep(c.Before)+" -> "+rep(c.After)+" par "+string(c.SeenBy))
	}
	return out
}

func identifiants(cs []suivi.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Identifiant)
	}
	return out
}

func etudiants(c suivi.Controle) []string {
	out := []string{}
	for _, e := range c.Etudiants {
		out = append(out, e.Identifiant)
	}
	return out
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// get asks the routes (the REST face's, on store) as the authenticated client c, as the server's
// authentication middleware would leave the request.
func get(t *testing.T, store suivi.Store, c auth.Client, path, accept string) *httptest.ResponseRecorder {
	t.Helper()
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			next.ServeHTTP(w, req.WithContext(auth.WithClient(req.Context(), c)))
		})
	})
	rest.MountSuivi(r, suivi.Reader{Store: store}, rest.SuiviOptions{Now: func() time.Time { return time.Date(2025, 11, 27, 9, 0, 0, 0, time.UTC) }})
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res := httptest.NewRecorder()
	r.ServeHTTP(res, req)
	return res
}

// problem checks res is an RFC 9457 problem of that status and type.
func problem(t *testing.T, res *httptest.ResponseRecorder, status int, typ string) {
	t.Helper()
	assert.Equal(t, status, res.Code, res.Body.String())
	assert.Equal(t, "application/problem+json", res.Header().Get("Content-Type"))
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &p), res.Body.String())
	assert.Equal(t, "urn:aglae-connector:problem:"+typ, p.Type)
	assert.Equal(t, status, p.Status)
	assert.NotEmpty(t, p.Detail)
}

// readMIME returns the text of msg and its attachments, by file name,
// decoded.
func readMIME(t *testing.T, msg *netmail.Message) (string, map[string]string) {
	t.Helper()
	var body string
	files := map[string]string{}
	var walk func(ct string, hdr map[string][]string, r io.Reader)
	walk = func(ct string, hdr map[string][]string, r io.Reader) {
		mt, params, err := mime.ParseMediaType(ct)
		require.NoError(t, err)
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(r, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				require.NoError(t, err)
				walk(p.Header.Get("Content-Type"), p.Header, p)
			}
		}
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		switch strings.ToLower(first(hdr["Content-Transfer-Encoding"])) {
		case "base64":
			data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(data)))
			require.NoError(t, err)
		case "quoted-printable":
			data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
			require.NoError(t, err)
		}
		_, dp, _ := mime.ParseMediaType(first(hdr["Content-Disposition"]))
		if name := dp["filename"]; name != "" {
			files[name] = string(data)
			return
		}
		if mt == "text/plain" {
			body += string(data)
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header, msg.Body)
	return body, files
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// A real SMTP server, in the test: STARTTLS with a certificate of its own
// CA, AUTH PLAIN only once encrypted, and a mailbox.
type smtpServer struct {
	port    string
	caFile  string
	mu      sync.Mutex
	mailbox []message
	arrived chan struct{}
}

type message struct {
	from, user string
	to         []string
	tls        bool
	data       []byte
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	cert, caPEM := selfSignedCert(t)
	s := &smtpServer{caFile: filepath.Join(t.TempDir(), "ca.pem"), arrived: make(chan struct{}, 1)}
	require.NoError(t, os.WriteFile(s.caFile, caPEM, 0o600))
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{s: s, c: c}, nil
	}))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return s
}

// received waits for the one message the server received.
func (s *smtpServer) received(t *testing.T) message {
	t.Helper()
	select {
	case <-s.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no message arrived at the SMTP server")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.mailbox, 1)
	return s.mailbox[0]
}

type smtpSession struct {
	s    *smtpServer
	c    *smtp.Conn
	user string
	m    message
}

func (x *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "aglae" || password != "s3cret pass" {
			return smtp.ErrAuthFailed
		}
		x.user = username
		return nil
	}), nil
}

func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if x.user == "" {
		return smtp.ErrAuthRequired
	}
	_, isTLS := x.c.TLSConnectionState()
	x.m = message{from: from, user: x.user, tls: isTLS}
	return nil
}

func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.m.to = append(x.m.to, to)
	return nil
}

func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.m.data = b
	x.s.mu.Lock()
	x.s.mailbox = append(x.s.mailbox, x.m)
	x.s.mu.Unlock()
	select {
	case x.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (x *smtpSession) Reset()        { x.m = message{} }
func (x *smtpSession) Logout() error { return nil }

// selfSignedCert makes a self-signed certificate for 127.0.0.1, and its PEM.
func selfSignedCert(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtp de test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
