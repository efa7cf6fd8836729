package console

import (
	"context"
	"time"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
)

// Utilisateur is a person who signs in to the console: a gestionnaire of
// one establishment (UAI) or a CROUS user of one académie (Academie);
// exactly one of the two is set.
type Utilisateur struct {
	ID         int64
	Email      string
	UAI        string
	Academie   string
	Hash       string // argon2id PHC string; empty when listed
	CreatedAt  time.Time
	DisabledAt *time.Time
}

// Gestionnaire reports whether u works for an establishment.
func (u Utilisateur) Gestionnaire() bool { return u.UAI != "" }

// Session is a signed-in browser: its user, its CSRF token and its end.
type Session struct {
	Utilisateur Utilisateur
	CSRF        string
	ExpiresAt   time.Time
}

// Utilisateurs keeps the console's accounts (postgres.Utilisateurs).
// Errors are of kind Invalid (an e-mail already taken), NotFound,
// Unavailable or Internal.
type Utilisateurs interface {
	Add(ctx context.Context, u Utilisateur) (int64, error)
	// ByEmail returns the account with that (lower-case) e-mail, disabled
	// or not, with its hash; NotFound when there is none.
	ByEmail(ctx context.Context, email string) (Utilisateur, error)
	List(ctx context.Context) ([]Utilisateur, error)
	// Disable disables the account and ends its sessions.
	Disable(ctx context.Context, email string) error
}

// Sessions keeps the sessions server-side (postgres.Sessions), by the
// SHA-256 of their token.
type Sessions interface {
	Create(ctx context.Context, digest []byte, userID int64, csrf string, expiresAt time.Time) error
	// Get returns the session of digest if it has not expired at now and
	// its account is not disabled; NotFound otherwise.
	Get(ctx context.Context, digest []byte, now time.Time) (Session, error)
	Delete(ctx context.Context, digest []byte) error
	// DeleteExpired removes the sessions expired at now.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)
}

// Reponse is one answer an establishment was given about a student, as
// the consultation log keeps it.
type Reponse struct {
	Horodatage         time.Time
	Canal              bourse.Canal
	AnneeUniversitaire int
	Statut             bourse.Statut
	TypeDecision       bourse.TypeDecision
	Echelon            string
	Correspondance     bourse.Correspondance
	IdentifiantAglae   string
	Anomalie           bourse.Anomalie
}

// Day is how many answers an establishment was given one day (Paris
// time) with one statut.
type Day struct {
	Day    time.Time // midnight, Paris time
	Statut bourse.Statut
	N      int
}

// Journal reads what the console shows of the consultation log
// (postgres.Console).
type Journal interface {
	// History returns every answer the establishment uai was given
	// about identifiant, any year, newest first (the re-check's
	// included: canal RECHECK).
	History(ctx context.Context, uai, identifiant string) ([]Reponse, error)
	// PerDay counts the answers the establishment uai was given for the
	// academic year annee, per day and statut, oldest day first (the
	// re-check's excluded).
	PerDay(ctx context.Context, uai string, annee int) ([]Day, error)
	// Noms returns the names Aglaé knows ("NOM Prénom") of those of
	// identifiants it knows.
	Noms(ctx context.Context, identifiants []string) (map[string]string, error)
}
