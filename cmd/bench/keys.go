package main

import (
	"context"
	"errors"
	"math/rand/v2"

	"github.com/aglae-connector/aglae-connector/internal/ident"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
)

// key is one lookup: an identifier and a year, and whether a live dossier
// answers it.
type key struct {
	id    string
	annee int
	known bool
}

// unknownPerMille is the share of draws that ask for an absent identifier.
const unknownPerMille = 100

// keys draws the identifiers of the lookups: the n-th draw of a stream is
// a pure function of the seed, the stream and n, so that a response can be
// checked against its request from n alone (sent as X-Request-Id), without
// storing the draws.
type keys struct {
	seed    uint64
	known   []key
	unknown []string
	annees  []int
}

// at is the n-th draw of stream: an existing pair of the sample, or, one
// time in ten, an absent identifier with one of the years.
func (k *keys) at(stream, n uint64) key {
	h := splitmix64(k.seed ^ splitmix64(stream<<40^n))
	if h%1000 < unknownPerMille || len(k.known) == 0 {
		h >>= 10
		return key{id: k.unknown[h%uint64(len(k.unknown))], annee: k.annees[(h>>32)%uint64(len(k.annees))]}
	}
	return k.known[(h>>10)%uint64(len(k.known))]
}

// splitmix64 is SplitMix64's finaliser: a cheap, well-mixed hash of x.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Streams of draws: each phase asks its own sequence.
const (
	streamWarmup uint64 = iota + 1
	streamPlain
	streamDB
	streamREST
	streamSOAP
	streamRecheck
	streamSoak
	streamProbe
	streamOpen
)

// loadKeys reads a seeded sample of up to n existing (identifier, year)
// pairs that have a live (not cancelled) dossier, so that their answer is
// never INCONNU, and makes n/9 valid INE-BEA absent from the database
// (10 % of the draws).
func loadKeys(ctx context.Context, pool *postgres.Pool, n int, annees []int, seed uint64) (*keys, error) {
	k := &keys{seed: seed, annees: annees}
	sample, err := postgres.SampleKeys(ctx, pool, n, seed)
	if err != nil {
		return nil, err
	}
	for _, c := range sample {
		k.known = append(k.known, key{id: c.Identifiant, annee: c.Annee, known: true})
	}
	if len(k.known) == 0 {
		return nil, errors.New("sample of identifiers: the database has no live dossier")
	}
	if k.unknown, err = absentBEA(ctx, pool, max(len(k.known)/9, 10), seed); err != nil {
		return nil, err
	}
	return k, nil
}

// absentBEA returns n distinct valid INE-BEA that no dossier or student
// has.
func absentBEA(ctx context.Context, pool *postgres.Pool, n int, seed uint64) ([]string, error) {
	r := rand.New(rand.NewPCG(seed, 0xbea))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var cands []string
		for len(cands) < n-len(out) {
			id := randomBEA(r)
			if !seen[id] {
				seen[id] = true
				cands = append(cands, id)
			}
		}
		present, err := postgres.KnownIdentifiants(ctx, pool, cands)
		if err != nil {
			return nil, err
		}
		for _, id := range cands {
			if !present[id] {
				out = append(out, id)
			}
		}
	}
	return out, nil
}

// randomBEA draws a valid INE-BEA: ten digits and their key letter.
func randomBEA(r *rand.Rand) string {
	for {
		b := make([]byte, 11)
		for i := range 10 {
			b[i] = byte('0' + r.IntN(10))
		}
		b[10] = ident.BEAKey(string(b[:10]))
		if ine, err := ident.ParseINE(string(b)); err == nil && ine.Format == ident.FormatBEA {
			return ine.Value
		}
	}
}
