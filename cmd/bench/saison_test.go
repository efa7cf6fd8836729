package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aglae-connector/aglae-connector/internal/pgtest"
)

// TestSaisonSmall plays a small season on a test database: every
// consultation reaches the log through the journal, the nights re-ask only
// students whose dossier changed, a night without extract re-asks nobody,
// and the purge drops the months before its cutoff without the follow-up
// forgetting the students that have later rows.
func TestSaisonSmall(t *testing.T) {
	pool := pgtest.New(t)
	cfg, err := parseSaisonFlags(strings.Fields("--dossiers 1000 --consultations 2000 --etablissements 4 --jours 70"), &bytes.Buffer{})
	require.NoError(t, err)
	rep := &saisonReport{}
	var log bytes.Buffer
	require.NoError(t, playSaison(context.Background(), pool, cfg, t.TempDir(), rep, &log), log.String())

	assert.Equal(t, cfg.consultations, rep.Consultations)
	assert.EqualValues(t, cfg.consultations+rep.RecheckChanges, rep.Log.Rows, "every consultation, and the re-check's changed answers")
	assert.Equal(t, 70, rep.NightlyImports)
	assert.Positive(t, rep.RecheckReasked)
	assert.LessOrEqual(t, rep.RecheckReasked, 70*rep.ChangementsParNuit, "only students whose dossier changed are re-asked")
	assert.Positive(t, rep.RecheckChanges)
	assert.Zero(t, rep.RecheckQuietReasked, "a night without extract re-asks nobody")
	assert.Equal(t, []string{"2025-07", "2025-08"}, rep.PurgeMonths)
	assert.Less(t, rep.LogAfterPurge.Rows, rep.Log.Rows)
	assert.Positive(t, rep.LogAfterPurge.Rows, "September stays")
	assert.Positive(t, rep.EtudiantsAfterPurge)
	assert.LessOrEqual(t, rep.EtudiantsAfterPurge, rep.EtudiantsBeforePurge)
	assert.Equal(t, 4, rep.SuiviMs.N)
	var out bytes.Buffer
	rep.print(&out)
	assert.Contains(t, out.String(), "nightly re-check")
	t.Log(out.String())
}
