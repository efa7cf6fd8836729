package suivi

import (
	"context"
	"time"
)

// Reader reads the follow-up and the control lists from a store: [Suivi]
// and [Liste] as methods, for the faces that serve them (rest.FollowUp).
type Reader struct {
	Store Store
}

// Suivi is [Suivi] on r's store.
func (r Reader) Suivi(ctx context.Context, uai string, since time.Time) ([]Change, error) {
	return Suivi(ctx, r.Store, uai, since)
}

// Liste is [Liste] on r's store.
func (r Reader) Liste(ctx context.Context, uai string, annee int, nom string) (Controle, error) {
	return Liste(ctx, r.Store, uai, annee, nom)
}
