package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/bourse"
	"github.com/aglae-connector/aglae-connector/internal/pgtest"
	"github.com/aglae-connector/aglae-connector/internal/postgres"
	"github.com/aglae-connector/aglae-connector/internal/rest"
	"github.com/aglae-connector/aglae-connector/internal/testutil"
)

func TestBatchAnswersLikeSingleLookups(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	svc := &bourse.Service{Store: postgres.NewStore(pool)}
	var ids []string
	var want []rest.Reponse
	for _, c := range testutil.LoadCases(t) {
		if c.Saisie.Nom != "" || c.Saisie.Identifiant == "" || c.Saisie.Annee != 2025 {
			continue
		}
		ids = append(ids, c.Saisie.Identifiant)
		want = append(want, c.Want)
	}
	ids = append(ids, "1111037734M") // invalid key: an error for that one alone
	got, err := svc.ConsultBatch(ctx, bourse.Batch{Annee: 2025, Identifiants: ids})
	require.NoError(t, err)
	require.Len(t, got, len(ids))
	for i := range want {
		require.NoError(t, got[i].Err, ids[i])
		assert.Equal(t, want[i], rest.ToReponse(got[i].Reponse), ids[i])
	}
	last := got[len(got)-1]
	require.Error(t, last.Err)
	assert.Equal(t, bourse.KindInvalid, bourse.KindOf(last.Err))

	_, err = svc.ConsultBatch(ctx, bourse.Batch{Annee: 2025, Identifiants: make([]string, bourse.MaxBatch+1)})
	assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
	_, err = svc.ConsultBatch(ctx, bourse.Batch{Annee: 2025})
	assert.Equal(t, bourse.KindInvalid, bourse.KindOf(err))
}

// Concurrent lookups share rounds, and each gets its own answer.
func TestCoalescedLookupsGetTheirOwnAnswers(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	pgtest.ImportFile(t, pool, testutil.Testdata("extract.jsonl"))
	store := postgres.NewStore(pool)
	want := map[string]string{
		"2000000011F": "2025VER2000000011F", "2000000022T": "2025VER2000000022T", "2000000033E": "2025VER2000000033E",
		"2000000099B": "2025VER2000000099B", "3000000001S": "", "2000000100C": "2025PAR2000000100C",
	}
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				for id, num := range want {
					ds, _, err := store.Dossiers(ctx, bourse.Query{Identifiant: id, Annee: 2025})
					if err != nil {
						errs <- err.Error()
						continue
					}
					if num == "" && len(ds) != 0 || num != "" && (len(ds) == 0 || ds[0].Identifiant != id) {
						errs <- id + " got someone else's dossiers"
					}
					found := num == ""
					for _, d := range ds {
						found = found || d.NumeroDossier == num
					}
					if !found {
						errs <- id + " missing " + num
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestCoalescedLookupHonoursItsDeadline(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.New(t)
	store := postgres.NewStore(pool)
	dead, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, _, err := store.Dossiers(dead, bourse.Query{Identifiant: "2000000011F", Annee: 2025})
	require.Error(t, err)
	assert.Equal(t, bourse.KindUnavailable, bourse.KindOf(err))
	// The store still answers afterwards.
	_, _, err = store.Dossiers(ctx, bourse.Query{Identifiant: "2000000011F", Annee: 2025})
	require.NoError(t, err)
}
