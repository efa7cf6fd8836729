// Package deploy_test tests the files of deploy/, from beside them, against the real thing:
// deploy/sql/roles.sql on a real PostgreSQL, with the service, the import,
// the migrations and the operators' commands each running as its role.
package deploy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/journal"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/servertest"
)

// The roles of deploy/sql/roles.sql.
const (
	owner     = "aglae_owner"
	importer  = "aglae_import"
	connector = "aglae_connector"
	admin     = "aglae_admin"
	followUp  = "aglae_suivi"
)

var roles = []string{owner, importer, connector, admin, followUp}

// repo is the path of a file of the repository.
func repo(parts ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), ".."}, parts...)...)
}

// applyRoles runs deploy/sql/roles.sql as the superuser of dbURL, in one
// transaction (as `psql --single-transaction` does), and returns the
// notices it raised.
func applyRoles(t *testing.T, dbURL string) []string {
	t.Helper()
	ctx := context.Background()
	sql, err := os.ReadFile(repo("deploy", "sql", "roles.sql"))
	require.NoError(t, err)
	cfg, err := pgx.ParseConfig(dbURL)
	require.NoError(t, err)
	var mu sync.Mutex
	var notices []string
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		mu.Lock()
		notices = append(notices, n.Message)
		mu.Unlock()
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	// The simple protocol runs the statements of one string in one
	// implicit transaction.
	_, err = conn.Exec(ctx, string(sql))
	require.NoError(t, err, "deploy/sql/roles.sql")
	mu.Lock()
	defer mu.Unlock()
	return notices
}

// asRole returns dbURL as role: a login when the cluster lets the role in
// without a password (`make test`'s cluster trusts its unix socket), else
// the superuser's connection with the role set at start-up (SET ROLE),
// where privileges are checked alike.
func asRole(t *testing.T, dbURL, role string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	login := *u
	login.User = url.User(role)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, login.String())
	if err == nil {
		conn.Close(ctx)
		return login.String()
	}
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "28"), "connect as %s: %v", role, err)
	t.Logf("cannot log in as %s (%s): SET ROLE instead", role, pgErr.Code)
	q := u.Query()
	q.Set("options", "-c role="+role)
	u.RawQuery = q.Encode()
	return u.String()
}

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	p, err := postgres.Open(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// denied checks that sql fails for lack of privilege (SQLSTATE 42501).
func denied(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	_, err := conn.Exec(context.Background(), sql, args...)
	assertDenied(t, err, sql)
}

func assertDenied(t *testing.T, err error, what string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if assert.True(t, errors.As(err, &pgErr), "%s: want permission denied, got %v", what, err) {
		assert.Equal(t, "42501", pgErr.Code, "%s: %s", what, pgErr.Message)
	}
}

func allowed(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	_, err := conn.Exec(context.Background(), sql, args...)
	assert.NoError(t, err, sql)
}

func serverVersion(t *testing.T, conn *pgx.Conn) int {
	t.Helper()
	var v int
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT current_setting('server_version_num')::int`).Scan(&v))
	return v
}

// TestRolesOnMigratedDatabase applies roles.sql to a database a superuser
// migrated (pgtest's), then runs each part of the connector as its role:
// the import as aglae_import, the whole service as aglae_connector (a REST
// lookup authenticated against connecteur.client and recorded in the
// consultation log), the operators' commands as aglae_admin, and checks
// what each role must not do.
func TestRolesOnMigratedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	applyRoles(t, dbURL)
	applyRoles(t, dbURL) // idempotent
	su := connect(t, dbURL)

	t.Run("attributes", func(t *testing.T) {
		for _, r := range roles {
			var super, createdb, createrole, repl, bypass, login bool
			var limit int
			require.NoError(t, su.QueryRow(ctx, `SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls,
				rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = $1`, r).
				Scan(&super, &createdb, &createrole, &repl, &bypass, &login, &limit), r)
			assert.False(t, super || createdb || createrole || repl || bypass, "%s has a dangerous attribute", r)
			assert.True(t, login, r)
			assert.Greater(t, limit, 0, "%s: CONNECTION LIMIT", r)
		}
	})

	t.Run("ownership", func(t *testing.T) {
		var n int
		require.NoError(t, su.QueryRow(ctx, `SELECT count(*) FROM pg_namespace
			WHERE nspname IN ('aglae', 'connecteur') AND pg_get_userbyid(nspowner) = $1`, owner).Scan(&n))
		assert.Equal(t, 2, n, "both schemas belong to aglae_owner")
		rows, err := su.Query(ctx, `SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname IN ('aglae', 'connecteur') AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> $1`, owner)
		require.NoError(t, err)
		others, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		assert.Empty(t, others, "tables not owned by aglae_owner")
	})

	// The nightly import, as aglae_import.
	importURL := asRole(t, dbURL, importer)
	t.Run("import", func(t *testing.T) {
		cfg, err := pgxpool.ParseConfig(importURL)
		require.NoError(t, err)
		var mu sync.Mutex
		var warnings []string
		cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
			mu.Lock()
			warnings = append(warnings, n.Severity+": "+n.Message)
			mu.Unlock()
		}
		p, err := pgxpool.NewWithConfig(ctx, cfg)
		require.NoError(t, err)
		defer p.Close()
		f, err := os.Open(repo("testdata", "extract.jsonl"))
		require.NoError(t, err)
		defer f.Close()
		res, err := postgres.Import(ctx, p, f, postgres.ImportOptions{})
		require.NoError(t, err, "import as aglae_import")
		require.Zero(t, res.Faults)
		require.Positive(t, res.Created)

		// Its ANALYZE: skipped with a warning on PostgreSQL 15 and 16,
		// done on 17+ thanks to MAINTAIN.
		mu.Lock()
		skipped := 0
		for _, w := range warnings {
			if strings.Contains(w, "skipping") || strings.Contains(w, "permission denied to analyze") {
				skipped++
			}
		}
		mu.Unlock()
		if serverVersion(t, su) >= 170000 {
			assert.Zero(t, skipped, "ANALYZE as aglae_import with MAINTAIN: %v", warnings)
		} else {
			assert.Equal(t, 4, skipped, "ANALYZE as aglae_import on PostgreSQL < 17: %v", warnings)
			t.Logf("PostgreSQL < 17: the import's ANALYZE is skipped for aglae_import: %q", warnings)
		}

		c := connect(t, importURL)
		allowed(t, c, `CREATE TEMP TABLE t (x int)`)
		denied(t, c, `SELECT * FROM connecteur.client`)
		denied(t, c, `SELECT count(*) FROM connecteur.consultation`)
		denied(t, c, `INSERT INTO connecteur.consultation (horodatage, client_id, canal, annee_universitaire, statut, raison, request_id, latence_us)
			VALUES (now(), 'x', 'REST', 2014, 'INCONNU', 'AUCUN_DOSSIER', 'r', 0)`)
		denied(t, c, `TRUNCATE aglae.voeu`)
		denied(t, c, `DROP TABLE aglae.voeu`)
		denied(t, c, `CREATE TABLE aglae.t (x int)`)
		denied(t, c, `ALTER TABLE aglae.dossier ADD COLUMN x int`)
	})

	// An API client, created by an operator.
	adminURL := asRole(t, dbURL, admin)
	clientID, secret := auth.NewCredentials()
	hash, err := auth.HashSecret(secret)
	require.NoError(t, err)
	require.NoError(t, postgres.NewClients(pool(t, adminURL)).Add(ctx,
		auth.NewClient{ID: clientID, Nom: "UVSQ Apogée", UAI: "0781944P", SecretHash: hash}), "clients add as aglae_admin")

	// The service, as aglae_connector.
	connectorURL := asRole(t, dbURL, connector)
	t.Run("service", func(t *testing.T) {
		cfg := servertest.Config(t, connectorURL)
		svc := servertest.Start(t, cfg, nil)
		base := svc.URL()

		code, body := request(t, http.MethodGet, base+"/readyz", "", "")
		assert.Equal(t, http.StatusOK, code, body)
		// Authentication reads the client's secret_hash; the lookup reads aglae.
		code, body = request(t, http.MethodGet, base+"/v1/boursiers/1111037734L?annee=2014", secret, "")
		assert.Equal(t, http.StatusOK, code, body)
		assert.Contains(t, body, `"statut":"BOURSIER"`)
		code, body = request(t, http.MethodPost, base+"/v1/consultations", secret,
			`{"identifiant":"2025D12345K","anneeUniversitaire":2025,"nom":"Okonkwo","prenom":"Chiamaka","dateNaissance":"2006-06-06"}`)
		assert.Equal(t, http.StatusOK, code, body)

		// Close flushes the consultation log: its COPY must have worked.
		require.NoError(t, svc.Stop())
		var n int
		require.NoError(t, su.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation WHERE client_id = $1`, clientID).Scan(&n))
		assert.Equal(t, 2, n, "consultations recorded by the service as aglae_connector")
		// The log's trigger kept the follow-up's summary, as its owner.
		var summarised, students int
		require.NoError(t, su.QueryRow(ctx, `SELECT count(*) FROM connecteur.etudiant_suivi`).Scan(&summarised))
		require.NoError(t, su.QueryRow(ctx, `SELECT count(DISTINCT (uai, annee_universitaire, identifiant))
			FROM connecteur.consultation WHERE uai IS NOT NULL AND identifiant IS NOT NULL`).Scan(&students))
		assert.Equal(t, students, summarised, "every student of the log summarised")
		var counted, answers int
		require.NoError(t, su.QueryRow(ctx, `SELECT coalesce(sum(n), 0) FROM connecteur.reponses_par_jour`).Scan(&counted))
		require.NoError(t, su.QueryRow(ctx, `SELECT count(*) FROM connecteur.consultation
			WHERE uai IS NOT NULL AND canal <> 'RECHECK'`).Scan(&answers))
		assert.Equal(t, answers, counted, "every answer of the log counted per day")
		spooled, err := filepath.Glob(filepath.Join(cfg.SpoolDir, "*.jsonl"))
		require.NoError(t, err)
		assert.Empty(t, spooled, "nothing left in the spool")
	})

	t.Run("service cannot", func(t *testing.T) {
		c := connect(t, connectorURL)
		// It reads what it needs, secret_hash included (it checks secrets).
		allowed(t, c, `SELECT secret_hash FROM connecteur.client WHERE id = $1`, clientID)
		// Each instance registers, beats and counts the live ones (the rate limits' share).
		allowed(t, c, `INSERT INTO connecteur.instance (id, heartbeat) VALUES ('roles-test', now())`)
		allowed(t, c, `UPDATE connecteur.instance SET heartbeat = now() WHERE id = 'roles-test'`)
		allowed(t, c, `SELECT count(*) FROM connecteur.instance`)
		allowed(t, c, `DELETE FROM connecteur.instance WHERE id = 'roles-test'`)
		allowed(t, c, `SELECT count(*) FROM aglae.dossier d JOIN aglae.etudiant e USING (identifiant)`)
		allowed(t, c, `SELECT count(*) FROM aglae.voeu`)
		allowed(t, c, `SELECT count(*) FROM aglae.piece_manquante`)
		for table, col := range map[string]string{"aglae.etudiant": "identifiant", "aglae.dossier": "numero_dossier",
			"aglae.voeu": "numero_dossier", "aglae.piece_manquante": "numero_dossier"} {
			denied(t, c, `DELETE FROM `+table)
			denied(t, c, `UPDATE `+table+` SET `+col+` = `+col)
			denied(t, c, `TRUNCATE `+table)
		}
		denied(t, c, `INSERT INTO aglae.etudiant (identifiant, nom, prenom, date_naissance, nom_normalise, prenom_normalise)
			VALUES ('12345678901', 'A', 'B', '2000-01-01', 'A', 'B')`)
		denied(t, c, `UPDATE aglae.dossier SET etat = 'VALIDE'`)
		// The consultation log: append only.
		denied(t, c, `SELECT count(*) FROM connecteur.consultation`)
		denied(t, c, `UPDATE connecteur.consultation SET statut = 'BOURSIER'`)
		denied(t, c, `DELETE FROM connecteur.consultation`)
		// The log's summary: written by the log's trigger only, never read by the service.
		denied(t, c, `SELECT count(*) FROM connecteur.etudiant_suivi`)
		denied(t, c, `UPDATE connecteur.etudiant_suivi SET statut = 'BOURSIER'`)
		denied(t, c, `DELETE FROM connecteur.etudiant_suivi`)
		// It creates the log's months ahead (a SECURITY DEFINER function), and cannot drop them.
		_, err := postgres.NewConsultations(pool(t, connectorURL)).MakePartitions(ctx, time.Now())
		require.NoError(t, err, "the log's partitions as aglae_connector")
		denied(t, c, `DROP TABLE connecteur.consultation_defaut`)
		_, err = journal.Purge(ctx, postgres.NewConsultations(pool(t, connectorURL)), time.Now().Add(time.Hour))
		assertDenied(t, err, "consultations purge as aglae_connector")
		// The clients: read only.
		denied(t, c, `UPDATE connecteur.client SET revoque_le = NULL`)
		denied(t, c, `DELETE FROM connecteur.client`)
		err = postgres.NewClients(pool(t, connectorURL)).Add(ctx, auth.NewClient{ID: "intrus01", Nom: "intrus", SecretHash: hash})
		assertDenied(t, err, "clients add as aglae_connector")
		// Nothing else.
		denied(t, c, `CREATE TEMP TABLE t (x int)`)
		denied(t, c, `CREATE TABLE connecteur.t (x int)`)
		denied(t, c, `CREATE TABLE public.t (x int)`)
		denied(t, c, `CREATE SCHEMA s`)
		denied(t, c, `SELECT * FROM public.goose_db_version`)
	})

	t.Run("operators", func(t *testing.T) {
		p := pool(t, adminURL)
		cs, err := postgres.NewClients(p).List(ctx)
		require.NoError(t, err)
		assert.Len(t, cs, 1)
		var buf bytes.Buffer
		n, err := journal.Export(ctx, postgres.NewConsultations(p), journal.Filter{}, &buf, "csv")
		require.NoError(t, err, "consultations export as aglae_admin")
		assert.Equal(t, 2, n)
		require.NoError(t, postgres.NewClients(p).Revoke(ctx, clientID), "clients revoke as aglae_admin")
		// The purge drops whole months: next month's cutoff takes this one's.
		purged, err := journal.Purge(ctx, postgres.NewConsultations(p), time.Now().AddDate(0, 1, 0))
		require.NoError(t, err, "consultations purge as aglae_admin")
		assert.Len(t, purged.Months, 1)
		buf.Reset()
		n, err = journal.Export(ctx, postgres.NewConsultations(p), journal.Filter{}, &buf, "csv")
		require.NoError(t, err)
		assert.Zero(t, n, "purged")

		c := connect(t, adminURL)
		allowed(t, c, `SELECT count(*) FROM aglae.dossier`) // `check`
		denied(t, c, `UPDATE connecteur.client SET secret_hash = 'x'`)
		denied(t, c, `DELETE FROM connecteur.client`)
		denied(t, c, `INSERT INTO connecteur.consultation (horodatage, client_id, canal, annee_universitaire, statut, raison, request_id, latence_us)
			VALUES (now(), 'x', 'REST', 2014, 'INCONNU', 'AUCUN_DOSSIER', 'r', 0)`)
		denied(t, c, `UPDATE connecteur.consultation SET statut = 'BOURSIER'`)
		denied(t, c, `DELETE FROM aglae.voeu`)
		allowed(t, c, `SELECT count(*) FROM connecteur.etudiant_suivi`)
		denied(t, c, `UPDATE connecteur.etudiant_suivi SET statut = 'BOURSIER'`)
		denied(t, c, `CREATE TEMP TABLE t (x int)`)
	})

	// The follow-up and the nightly re-check read the log and Aglaé's
	// data, and record the re-check's answers; nothing else.
	t.Run("follow-up", func(t *testing.T) {
		c := connect(t, asRole(t, dbURL, followUp))
		allowed(t, c, `SELECT identifiant, statut, lag(statut) OVER (PARTITION BY identifiant ORDER BY horodatage)
			FROM connecteur.consultation WHERE uai = $1`, "0781944P")
		allowed(t, c, `SELECT count(*) FROM aglae.dossier d JOIN aglae.etudiant e USING (identifiant)`)
		allowed(t, c, `INSERT INTO connecteur.consultation (horodatage, client_id, canal, annee_universitaire, statut, raison, request_id, latence_us)
			VALUES (now(), 'recheck', 'RECHECK', 2014, 'INCONNU', 'AUCUN_DOSSIER', 'r', 0)`)
		denied(t, c, `DELETE FROM connecteur.consultation`)
		denied(t, c, `UPDATE connecteur.consultation SET statut = 'BOURSIER'`)
		denied(t, c, `SELECT count(*) FROM connecteur.client`)
		allowed(t, c, `SELECT identifiant, statut, depuis FROM connecteur.etudiant_suivi WHERE uai = $1`, "0781944P")
		denied(t, c, `UPDATE connecteur.etudiant_suivi SET statut = 'BOURSIER'`)
		denied(t, c, `DELETE FROM connecteur.etudiant_suivi`)
		// The nightly re-check marks the students it re-asked, through its function only.
		allowed(t, c, `SELECT connecteur.etudiant_suivi_reverifie('0781944P', 2014::smallint, ARRAY['x'], now())`)
		denied(t, c, `UPDATE connecteur.etudiant_suivi SET reverifie_le = now()`)
		allowed(t, c, `SELECT jour, statut, n FROM connecteur.reponses_par_jour WHERE uai = $1`, "0781944P")
		denied(t, c, `UPDATE connecteur.reponses_par_jour SET n = 1`)
		denied(t, c, `INSERT INTO connecteur.etudiant_suivi (uai, annee_universitaire, identifiant, statut, derniere_ligne,
			depuis, depuis_canal, consultations, premiere_ligne) VALUES ('0781944P', 2014, 'x', 'INCONNU', now(), now(), 'REST', 0, now())`)
		denied(t, c, `UPDATE aglae.dossier SET etat = 'VALIDE'`)
		denied(t, c, `CREATE TEMP TABLE t (x int)`)
	})

	// The console: the service signs people in and keeps their sessions;
	// operators create and disable the accounts; nobody else reads the
	// password hashes.
	t.Run("console", func(t *testing.T) {
		a := connect(t, asRole(t, dbURL, admin))
		var id int64
		require.NoError(t, a.QueryRow(context.Background(), `INSERT INTO connecteur.utilisateur (email, uai, mot_de_passe_hash)
			VALUES ('prenom.nom@univ.example.fr', '0781944P', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA') RETURNING id`).Scan(&id))
		allowed(t, a, `SELECT email FROM connecteur.utilisateur`)
		allowed(t, a, `UPDATE connecteur.utilisateur SET desactive_le = NULL WHERE id = $1`, id)
		denied(t, a, `UPDATE connecteur.utilisateur SET mot_de_passe_hash = 'x'`)
		denied(t, a, `INSERT INTO connecteur.session (empreinte, utilisateur_id, jeton_csrf, expire_le)
			VALUES (decode(repeat('00', 32), 'hex'), $1, 't', now())`, id)

		c := connect(t, connectorURL)
		allowed(t, c, `SELECT mot_de_passe_hash FROM connecteur.utilisateur WHERE email = 'prenom.nom@univ.example.fr'`)
		allowed(t, c, `INSERT INTO connecteur.session (empreinte, utilisateur_id, jeton_csrf, expire_le)
			VALUES (decode(repeat('00', 32), 'hex'), $1, 't', now() + interval '1 hour')`, id)
		allowed(t, c, `SELECT count(*) FROM connecteur.session`)
		allowed(t, c, `DELETE FROM connecteur.session WHERE expire_le <= now()`)
		denied(t, c, `INSERT INTO connecteur.utilisateur (email, uai, mot_de_passe_hash) VALUES ('x@y.z', '0781944P', '$argon2id$')`)
		denied(t, c, `UPDATE connecteur.utilisateur SET desactive_le = now()`)
		allowed(t, a, `DELETE FROM connecteur.session WHERE utilisateur_id = $1`, id) // disable ends the sessions

		f := connect(t, asRole(t, dbURL, followUp))
		denied(t, f, `SELECT count(*) FROM connecteur.utilisateur`)
		denied(t, f, `SELECT count(*) FROM connecteur.session`)
	})

	// A table a later migration creates, as aglae_owner, gets its
	// privileges from the default privileges.
	t.Run("default privileges", func(t *testing.T) {
		o := connect(t, asRole(t, dbURL, owner))
		allowed(t, o, `CREATE TABLE aglae.nouvelle (x int)`)
		allowed(t, o, `CREATE TABLE connecteur.nouvelle (x int)`)
		c := connect(t, connectorURL)
		allowed(t, c, `SELECT * FROM aglae.nouvelle`)
		denied(t, c, `INSERT INTO aglae.nouvelle VALUES (1)`)
		denied(t, c, `SELECT * FROM connecteur.nouvelle`) // granted explicitly, never by default
		i := connect(t, importURL)
		allowed(t, i, `INSERT INTO aglae.nouvelle VALUES (1)`)
		allowed(t, i, `DELETE FROM aglae.nouvelle`)
		denied(t, i, `SELECT * FROM connecteur.nouvelle`)
		a := connect(t, adminURL)
		allowed(t, a, `SELECT * FROM connecteur.nouvelle`)
		denied(t, a, `INSERT INTO connecteur.nouvelle VALUES (1)`)
	})
}

// TestRolesOnNewDatabase follows the procedure roles.sql gives for a new
// database: roles.sql, migrate as aglae_owner, roles.sql again; then the
// owner can also undo and redo a migration, and the service reads.
func TestRolesOnNewDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := emptyDatabase(t)
	notices := applyRoles(t, dbURL)
	assert.Contains(t, strings.Join(notices, "\n"), "schema aglae does not exist yet")

	ownerURL := asRole(t, dbURL, owner)
	p := pool(t, ownerURL)
	v, err := postgres.Migrate(ctx, p, false)
	require.NoError(t, err, "migrate as aglae_owner")
	assert.Positive(t, v)
	applyRoles(t, dbURL)

	// migrate --down until the schema connecteur is dropped (00002), whatever migrations came after it.
	v2 := v
	for v2 >= 2 {
		v2, err = postgres.Migrate(ctx, p, true)
		require.NoError(t, err, "migrate --down as aglae_owner")
	}
	assert.Less(t, v2, v)
	_, err = postgres.Migrate(ctx, p, false)
	require.NoError(t, err, "migrate again as aglae_owner")

	su := connect(t, dbURL)
	var gooseOwner string
	require.NoError(t, su.QueryRow(ctx, `SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.goose_db_version'::regclass`).Scan(&gooseOwner))
	assert.Equal(t, owner, gooseOwner)

	// Schema aglae kept its privileges; schema connecteur, dropped by the
	// down migration and created again, lost them (default privileges go
	// with their schema): hence roles.sql after every migrate.
	c := connect(t, asRole(t, dbURL, connector))
	allowed(t, c, `SELECT count(*) FROM aglae.dossier`)
	allowed(t, c, `SELECT count(*) FROM aglae.etudiant`)
	denied(t, c, `DELETE FROM aglae.dossier`)
	denied(t, c, `SELECT secret_hash FROM connecteur.client`)
	applyRoles(t, dbURL)
	allowed(t, c, `SELECT secret_hash FROM connecteur.client`)
	allowed(t, c, `INSERT INTO connecteur.consultation (horodatage, client_id, canal, annee_universitaire, statut, raison, request_id, latence_us)
		VALUES (now(), 'x', 'REST', 2014, 'INCONNU', 'AUCUN_DOSSIER', 'r', 0)`)
	denied(t, c, `DELETE FROM connecteur.consultation`)
	var trigger string
	require.NoError(t, su.QueryRow(ctx, `SELECT pg_get_userbyid(proowner) FROM pg_proc
		WHERE oid = 'connecteur.etudiant_suivi_consultations'::regproc`).Scan(&trigger))
	assert.Equal(t, owner, trigger, "the log's trigger runs as the tables' owner")
}

// TestRolesConcurrently applies roles.sql to several databases at once, as
// parallel test runs on one cluster do.
func TestRolesConcurrently(t *testing.T) {
	t.Parallel()
	urls := make([]string, 4)
	for i := range urls {
		urls[i] = pgtest.URL(t)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(urls))
	sql, err := os.ReadFile(repo("deploy", "sql", "roles.sql"))
	require.NoError(t, err)
	for i, u := range urls {
		wg.Go(func() {
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				errs[i] = err
				return
			}
			defer conn.Close(ctx)
			for range 3 {
				if _, err := conn.Exec(ctx, string(sql)); err != nil {
					errs[i] = fmt.Errorf("database %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

// emptyDatabase creates a database with nothing in it, dropped at the end
// of the test.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("AGLAE_TEST_DATABASE_URL")
	if base == "" {
		t.Fatal("AGLAE_TEST_DATABASE_URL is not set: run the tests with `make test`, which starts a throwaway PostgreSQL")
	}
	name := fmt.Sprintf("test_roles_%d", time.Now().UnixNano())
	su, err := pgx.Connect(ctx, base)
	require.NoError(t, err)
	defer su.Close(ctx)
	_, err = su.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx := context.Background()
		if c, err := pgx.Connect(ctx, base); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

func request(t *testing.T, method, url, secret, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(b)
}
