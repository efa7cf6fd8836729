package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/console"
)

// Utilisateurs keeps the console's accounts in connecteur.utilisateur
// ([console.Utilisateurs]).
type Utilisateurs struct {
	pool *pgxpool.Pool
}

// NewUtilisateurs returns the console's accounts on pool.
func NewUtilisateurs(pool *pgxpool.Pool) *Utilisateurs { return &Utilisateurs{pool: pool} }

var _ console.Utilisateurs = (*Utilisateurs)(nil)

const utilisateurColumns = `id, email, coalesce(uai, ''), coalesce(academie, ''), cree_le, desactive_le`

// Add creates the account u and returns its id. An e-mail already taken
// is an Invalid error of field email.
func (s *Utilisateurs) Add(ctx context.Context, u console.Utilisateur) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `INSERT INTO connecteur.utilisateur (email, uai, academie, mot_de_passe_hash)
		VALUES ($1, $2, $3, $4) RETURNING id`, u.Email, nullString(u.UAI), nullString(u.Academie), u.Hash).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return 0, &bourse.Error{Kind: bourse.KindInvalid, Field: "email", Message: "an account with this e-mail already exists", Err: err}
	}
	return id, translate("add user", err)
}

// ByEmail returns the account with that e-mail, with its hash.
func (s *Utilisateurs) ByEmail(ctx context.Context, email string) (u console.Utilisateur, err error) {
	err = retryRead(ctx, "user by e-mail", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT `+utilisateurColumns+`, mot_de_passe_hash FROM connecteur.utilisateur WHERE email = $1`, email).
			Scan(&u.ID, &u.Email, &u.UAI, &u.Academie, &u.CreatedAt, &u.DisabledAt, &u.Hash)
	})
	return u, err
}

// List returns every account, disabled ones included, oldest first,
// without their hash.
func (s *Utilisateurs) List(ctx context.Context) ([]console.Utilisateur, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+utilisateurColumns+` FROM connecteur.utilisateur ORDER BY cree_le, id`)
	if err != nil {
		return nil, translate("list users", err)
	}
	us, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (u console.Utilisateur, err error) {
		err = row.Scan(&u.ID, &u.Email, &u.UAI, &u.Academie, &u.CreatedAt, &u.DisabledAt)
		return u, err
	})
	return us, translate("list users", err)
}

// Disable disables the account with that e-mail from now on and ends its
// sessions; disabling a disabled account changes nothing.
func (s *Utilisateurs) Disable(ctx context.Context, email string) error {
	const op = "disable user"
	return translate(op, pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE connecteur.utilisateur SET desactive_le = coalesce(desactive_le, now())
			WHERE email = $1 RETURNING id`, email).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return &bourse.Error{Kind: bourse.KindNotFound, Message: op + ": no account " + email}
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM connecteur.session WHERE utilisateur_id = $1`, id)
		return err
	}))
}

// Sessions keeps the console's sessions in connecteur.session
// ([console.Sessions]).
type Sessions struct {
	pool *pgxpool.Pool
}

// NewSessions returns the console's sessions on pool.
func NewSessions(pool *pgxpool.Pool) *Sessions { return &Sessions{pool: pool} }

var _ console.Sessions = (*Sessions)(nil)

// Create stores a session by the digest of its token.
func (s *Sessions) Create(ctx context.Context, digest []byte, userID int64, csrf string, expire time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO connecteur.session (empreinte, utilisateur_id, jeton_csrf, expire_le)
		VALUES ($1, $2, $3, $4)`, digest, userID, csrf, expire)
	return translate("create session", err)
}

// Get returns the live session of digest, with its account.
func (s *Sessions) Get(ctx context.Context, digest []byte, now time.Time) (se console.Session, err error) {
	u := &se.Utilisateur
	err = retryRead(ctx, "session", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT u.id, u.email, coalesce(u.uai, ''), coalesce(u.academie, ''), u.cree_le,
				s.jeton_csrf, s.expire_le
			FROM connecteur.session s JOIN connecteur.utilisateur u ON u.id = s.utilisateur_id
			WHERE s.empreinte = $1 AND s.expire_le > $2 AND u.desactive_le IS NULL`, digest, now).
			Scan(&u.ID, &u.Email, &u.UAI, &u.Academie, &u.CreatedAt, &se.CSRF, &se.ExpiresAt)
	})
	return se, err
}

// Delete ends the session of digest; an unknown one is no error.
func (s *Sessions) Delete(ctx context.Context, digest []byte) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM connecteur.session WHERE empreinte = $1`, digest)
	return translate("delete session", err)
}

// DeleteExpired removes the sessions expired at now.
func (s *Sessions) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM connecteur.session WHERE expire_le <= $1`, now)
	return tag.RowsAffected(), translate("delete expired sessions", err)
}
