package bourse

import (
	"context"
	"strings"
)

// MaxBatch is the largest number of identifiers one batch lookup takes.
const MaxBatch = 1000

// Lot is a batch re-check: many identifiers, one academic year, no
// identity. It is how establishments re-ask, each night, about every
// student still waiting.
type Batch struct {
	Annee             int // 0: the current academic year
	CodeEtablissement string
	Identifiants      []string
}

// BatchReponse is the answer for one identifier of a batch: an answer, or the
// error that identifier alone got (an invalid one does not spoil the
// others).
type BatchReponse struct {
	Reponse Reponse
	Err     error // of kind Invalid; nil when Reponse holds the answer
}

var _ Consultant = (*Service)(nil)

// ConsultBatch answers a batch with one query for all its identifiers.
func (s *Service) ConsultBatch(ctx context.Context, l Batch) ([]BatchReponse, error) {
	if len(l.Identifiants) == 0 {
		return nil, Invalid("identifiants", "at least one identifier is required")
	}
	if len(l.Identifiants) > MaxBatch {
		return nil, Invalid("identifiants", "at most %d identifiers per batch, got %d", MaxBatch, len(l.Identifiants))
	}
	annee := s.CurrentAnnee()
	if l.Annee != 0 {
		if err := ValidateAnnee("anneeUniversitaire", l.Annee); err != nil {
			return nil, err
		}
		annee = l.Annee
	}
	uai, err := ParseOptionalUAI("codeEtablissement", l.CodeEtablissement)
	if err != nil {
		return nil, err
	}
	out := make([]BatchReponse, len(l.Identifiants))
	queries := make([]Query, len(l.Identifiants))
	valids := make([]string, 0, len(l.Identifiants))
	for i, raw := range l.Identifiants {
		if strings.TrimSpace(raw) == "" {
			out[i].Err = Invalid("identifiant", "empty identifier")
			continue
		}
		d, err := Saisie{Identifiant: raw, Annee: annee}.Validate(annee)
		if err == nil && d.Annee != annee {
			err = Invalid("identifiant", "a dossier number of %d in a batch for %d", d.Annee, annee)
		}
		if err != nil {
			out[i].Err = err
			continue
		}
		d.CodeEtablissement = string(uai)
		queries[i] = d
		valids = append(valids, d.Identifiant)
	}
	if len(valids) > 0 {
		if s.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.Timeout)
			defer cancel()
		}
		byID, err := s.Store.DossiersBatch(ctx, annee, valids)
		if err != nil {
			return nil, err
		}
		for i, d := range queries {
			if out[i].Err == nil {
				out[i].Reponse = Decide(d, byID[d.Identifiant], nil)
			}
		}
	}
	return out, nil
}
