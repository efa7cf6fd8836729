package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// phaseInscriptions measures the registration events' intake (POST
// /v1/inscriptions, each event committed before its 201: durability on)
// and the worker's processing rate.
const phaseInscriptions = "inscriptions"

// inscriptionsResult is what the phase measured.
type inscriptionsResult struct {
	Status                string            `json:"status"`
	Detail                string            `json:"detail,omitempty"`
	Connections           int               `json:"connections"`
	Acknowledged          int64             `json:"acknowledged"`
	Errors                int64             `json:"errors"`
	ErrorKinds            map[string]int64  `json:"error_kinds,omitempty"`
	ErrorExamples         map[string]string `json:"error_examples,omitempty"`
	IntakeSeconds         float64           `json:"intake_seconds"`
	AcknowledgedPerSecond float64           `json:"acknowledged_per_second"`
	LatencyMs             latency           `json:"latency_ms"`
	ProcessedSeconds      float64           `json:"processed_seconds"`
	ProcessedPerSecond    float64           `json:"processed_per_second"`
}

// inscriptionConns is how many requests the phase keeps in flight.
const inscriptionConns = 64

func (b *bench) inscriptionsPhase(ctx context.Context) error {
	r := &inscriptionsResult{Connections: inscriptionConns}
	defer func() {
		b.rep.Inscriptions = r
		logf("inscriptions: %d acknowledged in %.1f s: %.0f/s (p50 %.1f ms, p99 %.1f ms, %d errors); all processed after %.1f s: %.0f/s",
			r.Acknowledged, r.IntakeSeconds, r.AcknowledgedPerSecond, r.LatencyMs.P50, r.LatencyMs.P99, r.Errors,
			r.ProcessedSeconds, r.ProcessedPerSecond)
	}()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: inscriptionConns}}
	defer client.CloseIdleConnections()

	var seq atomic.Int64
	tallies := make([]*tally, inscriptionConns)
	stop := time.Now().Add(b.cfg.duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range tallies {
		t := newTally()
		tallies[w] = t
		wg.Go(func() {
			for time.Now().Before(stop) && ctx.Err() == nil {
				n := seq.Add(1)
				k := b.keys.known[int(n)%len(b.keys.known)]
				body := `{"idEvenement":"bench-` + strconv.FormatInt(n, 10) + `","type":"INSCRIPTION","identifiant":"` + k.id +
					`","anneeUniversitaire":` + strconv.Itoa(k.annee) + `,"codeEtablissement":"0781944P",` +
					`"formation":{"code":"L1"},"dateInscription":"` + strconv.Itoa(k.annee) + `-09-02"}`
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.base+"/v1/inscriptions", strings.NewReader(body))
				req.Header.Set("Authorization", b.bearer)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				res, err := client.Do(req)
				lat := time.Since(t0)
				if err != nil {
					if ctx.Err() == nil {
						t.add(lat, transportKind(err.Error()), err.Error())
					}
					continue
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					t.add(lat, "status "+strconv.Itoa(res.StatusCode), string(out))
					continue
				}
				t.add(lat, "", "")
			}
		})
	}
	wg.Wait()
	intake := time.Since(start)
	all := newTally()
	for _, t := range tallies {
		all.merge(t)
	}
	r.Errors = all.errs.Load()
	r.Acknowledged = all.n.Load() - r.Errors
	r.IntakeSeconds = round(intake.Seconds(), 3)
	r.AcknowledgedPerSecond = round(float64(r.Acknowledged)/intake.Seconds(), 0)
	r.LatencyMs = all.latencies()
	if len(all.kinds) > 0 {
		r.ErrorKinds, r.ErrorExamples = all.kinds, all.examples
	}
	// The worker goes on: the processing rate is every event over the time
	// from the first one to the last processed.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		var left int64
		if err := b.pool.QueryRow(ctx, `SELECT count(*) FROM connecteur.inscription WHERE etat = 'RECU'`).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			r.Status, r.Detail = "failed", fmt.Sprintf("%d events still unprocessed after 10 minutes", left)
			return nil
		}
		select {
		case <-ctx.Done():
			r.Status = "interrupted"
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	el := time.Since(start)
	r.ProcessedSeconds = round(el.Seconds(), 3)
	r.ProcessedPerSecond = round(float64(r.Acknowledged)/el.Seconds(), 0)
	r.Status = "ok"
	if b.server.exited() {
		r.Status, r.Detail = "failed", fmt.Sprintf("the service exited during the phase: %v", b.server.err)
	}
	return nil
}
