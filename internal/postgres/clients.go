package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aglae-connector/aglae-connector/internal/auth"
	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Clients keeps the API clients in connecteur.client. It implements
// auth.Store.
type Clients struct {
	pool *pgxpool.Pool
}

// NewClients returns the clients store of pool.
func NewClients(pool *pgxpool.Pool) *Clients { return &Clients{pool: pool} }

var _ auth.Store = (*Clients)(nil)

const clientColumns = `id, nom, uai, certificat_sujet, debit_par_seconde, rafale, cree_le, revoque_le`

// Add creates client c. Errors are of kind Invalid (a value the table
// refuses, an id or certificate subject already taken), Unavailable or
// Internal.
func (s *Clients) Add(ctx context.Context, c auth.NewClient) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO connecteur.client
		(id, nom, uai, secret_hash, certificat_sujet, debit_par_seconde, rafale)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.Nom, nullString(c.UAI), c.SecretHash, nullString(c.CertSubject),
		nullFloat(c.Rate), nullInt(c.Burst))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // unique_violation
		switch pgErr.ConstraintName {
		case "client_certificat_sujet_key":
			return &bourse.Error{Kind: bourse.KindInvalid, Field: "certificat",
				Message: "another client already authenticates with this certificate subject", Err: err}
		case "client_pkey":
			return &bourse.Error{Kind: bourse.KindInvalid, Field: "id", Message: "a client with this id already exists", Err: err}
		}
	}
	return translate("add client", err)
}

// List returns every client, revoked ones included, oldest first, without
// their secret's hash. Errors are of kind Unavailable or Internal.
func (s *Clients) List(ctx context.Context) ([]auth.Client, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+`, '' FROM connecteur.client ORDER BY cree_le, id`)
	if err != nil {
		return nil, translate("list clients", err)
	}
	cs, err := pgx.CollectRows(rows, scanClient)
	if err != nil {
		return nil, translate("list clients", err)
	}
	return cs, nil
}

// ByID returns the client with that id, revoked or not, with its secret's
// hash. Errors are of kind NotFound, Unavailable or Internal.
func (s *Clients) ByID(ctx context.Context, id string) (auth.Client, error) {
	return s.one(ctx, "client by id", `id = $1`, id)
}

// BySubject returns the client whose certificate subject is subject,
// revoked or not, with its secret's hash. Errors are of kind NotFound,
// Unavailable or Internal.
func (s *Clients) BySubject(ctx context.Context, subject string) (auth.Client, error) {
	return s.one(ctx, "client by certificate subject", `certificat_sujet = $1`, subject)
}

func (s *Clients) one(ctx context.Context, op, where, arg string) (c auth.Client, err error) {
	err = retryRead(ctx, op, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, `SELECT `+clientColumns+`, secret_hash FROM connecteur.client WHERE `+where, arg)
		if err != nil {
			return err
		}
		c, err = pgx.CollectExactlyOneRow(rows, scanClient)
		return err
	})
	return c, err
}

// Revoke revokes client id from now on. Revoking a revoked client changes
// nothing (its revocation time stays the first one). Errors are of kind
// NotFound, Unavailable or Internal.
func (s *Clients) Revoke(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE connecteur.client SET revoque_le = coalesce(revoque_le, now()) WHERE id = $1`, id)
	if err != nil {
		return translate("revoke client", err)
	}
	if tag.RowsAffected() == 0 {
		return &bourse.Error{Kind: bourse.KindNotFound, Message: "revoke client: no client " + id}
	}
	return nil
}

// clientRow is a row of connecteur.client, nullable columns as pointers.
type clientRow struct {
	id, nom      string
	uai, subject *string
	rate         *float64
	burst        *int32
	createdAt    time.Time
	revokedAt    *time.Time
	hash         string
}

func scanClient(row pgx.CollectableRow) (auth.Client, error) {
	var r clientRow
	if err := row.Scan(&r.id, &r.nom, &r.uai, &r.subject, &r.rate, &r.burst, &r.createdAt, &r.revokedAt, &r.hash); err != nil {
		return auth.Client{}, err
	}
	return r.toClient(), nil
}

func (r clientRow) toClient() auth.Client {
	c := auth.Client{ID: r.id, Nom: r.nom, CreatedAt: r.createdAt, RevokedAt: r.revokedAt, SecretHash: r.hash}
	if r.uai != nil {
		c.UAI = *r.uai
	}
	if r.subject != nil {
		c.CertSubject = *r.subject
	}
	if r.rate != nil {
		c.Rate = *r.rate
	}
	if r.burst != nil {
		c.Burst = int(*r.burst)
	}
	return c
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullFloat(f float64) *float64 {
	if f == 0 {
		return nil
	}
	return &f
}

func nullInt(n int) *int {
	if n == 0 {
		return nil
	}
	return &n
}
