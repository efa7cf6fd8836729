//go:build resilience

package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rssCeilingKiB is the service's documented resident-memory ceiling under
// hostile load (BENCHMARKS.md, "Memory ceiling").
const rssCeilingKiB = 160 * 1024

// phaseTime is how long each attack runs beside the well-behaved client.
const phaseTime = 6 * time.Second

// vmRSS is a process's resident memory in KiB, 0 once it is gone.
func vmRSS(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}

// addClient creates an API client with the binary and returns its id and
// secret.
func addClient(t *testing.T, bin, url string, args ...string) (string, string) {
	t.Helper()
	var c struct{ ID, Secret string }
	out := run(t, bin, url, "", append([]string{"clients", "add", "--json"}, args...)...)
	require.NoError(t, json.Unmarshal([]byte(out), &c))
	return c.ID, c.Secret
}

// attack is one hostile load: it runs until ctx is done and returns a
// summary of what it got.
type attack func(ctx context.Context, addr string) string

// pause waits d or until ctx is done.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// wrongSecrets sends, from n connections, lookups with a wrong secret for
// client id, each connection one every 100 ms whatever the answer (Retry-After
// ignored): 6,000 a second for 600. (Unpaced, the attacker and the service,
// on the same two cores, would measure the scheduler, not the service.)
func wrongSecrets(id string, n int) attack {
	return func(ctx context.Context, addr string) string {
		wrong := "acx_" + id + "_" + strings.Repeat("a", 32)
		tr := &http.Transport{MaxIdleConnsPerHost: n}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		var sent, s401, s429, other atomic.Int64
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v1/boursiers/2000000011F?annee=2025", nil)
					req.Header.Set("Authorization", "Bearer "+wrong)
					res, err := c.Do(req)
					sent.Add(1)
					pause(ctx, 100*time.Millisecond)
					if err != nil {
						continue
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					switch res.StatusCode {
					case http.StatusUnauthorized:
						s401.Add(1)
					case http.StatusTooManyRequests:
						s429.Add(1)
					default:
						other.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return fmt.Sprintf("wrong secrets: %d sent, %d 401, %d 429, %d other", sent.Load(), s401.Load(), s429.Load(), other.Load())
	}
}

// greedyBatches keeps n batches of size identifiers in flight, half over
// REST, half over SOAP; a refused batch is sent again after a second.
func greedyBatches(secret string, n, size int) attack {
	ids := []string{"2000000011F", "2000000022T", "2000000033E", "3000000001S", "1111037734M", "0000000000A"}
	var rest, soapBody strings.Builder
	rest.WriteString(`{"anneeUniversitaire":2025,"identifiants":[`)
	soapBody.WriteString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:aglae-connector:connecteur:1"><soap:Body><c:consulterBoursiers><c:anneeUniversitaire>2025</c:anneeUniversitaire>`)
	for i := range size {
		if i > 0 {
			rest.WriteByte(',')
		}
		rest.WriteString(`"` + ids[i%len(ids)] + `"`)
		soapBody.WriteString("<c:identifiant>" + ids[i%len(ids)] + "</c:identifiant>")
	}
	rest.WriteString(`]}`)
	soapBody.WriteString(`</c:consulterBoursiers></soap:Body></soap:Envelope>`)
	return func(ctx context.Context, addr string) string {
		tr := &http.Transport{MaxIdleConnsPerHost: n}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		var ok, refused, other atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					var req *http.Request
					if i%2 == 0 {
						req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/v1/consultations/lot", strings.NewReader(rest.String()))
						req.Header.Set("Content-Type", "application/json")
					} else {
						req, _ = http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/ws/connecteur", strings.NewReader(soapBody.String()))
						req.Header.Set("Content-Type", "text/xml; charset=utf-8")
					}
					req.Header.Set("Authorization", "Bearer "+secret)
					res, err := c.Do(req)
					if err != nil {
						pause(ctx, time.Second)
						continue
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					switch {
					case res.StatusCode == http.StatusOK:
						ok.Add(1)
					case res.StatusCode == http.StatusTooManyRequests, res.StatusCode == http.StatusServiceUnavailable,
						res.StatusCode == http.StatusInternalServerError && strings.Contains(string(b), "<code>UNAVAILABLE</code>"):
						refused.Add(1)
						pause(ctx, time.Second)
					default:
						other.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return fmt.Sprintf("batches of %d: %d answered, %d refused (429/503), %d other", size, ok.Load(), refused.Load(), other.Load())
	}
}

// slowBodies opens n connections that each send a lookup's headers and
// then its body one byte a second. (Past the client's bound its requests
// are refused with 429, but Go's server holds the answer until it has read
// the small body, or until the read timeout, to keep the connection: they
// hold a goroutine, not a place.)
func slowBodies(secret string, n int) attack {
	return func(ctx context.Context, addr string) string {
		var opened atomic.Int64
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				conn, err := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", addr)
				if err != nil {
					return
				}
				defer conn.Close()
				opened.Add(1)
				fmt.Fprintf(conn, "POST /v1/consultations HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", addr, secret)
				tick := time.NewTicker(time.Second)
				defer tick.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-tick.C:
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		return fmt.Sprintf("slow bodies: %d connections", opened.Load())
	}
}

// wellBehaved sends lookups as a careful client would (about 40 a second,
// within its default rate) until ctx is done; it returns how many answered
// 200 and the others.
func wellBehaved(ctx context.Context, addr, secret string) (ok int, failures []string) {
	c := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ok, failures
		case <-tick.C:
		}
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/boursiers/2000000011F?annee=2025", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := c.Do(req)
		if err != nil {
			failures = append(failures, err.Error())
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			failures = append(failures, res.Status+": "+string(body))
			continue
		}
		ok++
	}
}

// TestHostileLoad runs, each in turn and then together, an attacker
// without valid credentials (600 connections of wrong secrets for the
// well-behaved client's own id), a greedy client (1,000 concurrent batches
// of 1,000) and a slow client (600 slow bodies), beside a well-behaved
// client whose lookups must all answer 200; the service's resident memory
// stays under its documented ceiling.
func TestHostileLoad(t *testing.T) {
	bin := buildBinary(t)
	pg := newCluster(t)
	greedy := load(t, bin, pg.url) // rate and burst of 100,000: its batches pass the rate limit
	goodID, good := addClient(t, bin, pg.url, "--nom", "sage")
	_, slow := addClient(t, bin, pg.url, "--nom", "lent")
	// The production lookup deadline (the other tests use 1 s): the attackers
	// share this machine's cores with the service, which the well-behaved
	// client's latency pays for; what is tested here is that the service
	// keeps serving it, not how fast a starved machine answers.
	p := serve(t, bin, pg.url, t.TempDir(), "LOOKUP_TIMEOUT=2s")
	pid := p.cmd.Process.Pid
	require.Equal(t, http.StatusOK, lookup(t, p.addr, good))

	attacks := map[string]attack{
		"wrong secrets": wrongSecrets(goodID, 600),
		"greedy":        greedyBatches(greedy, 1000, 1000),
		"slow bodies":   slowBodies(slow, 600),
	}
	phases := []struct {
		name    string
		attacks []string
	}{
		{"wrong secrets", []string{"wrong secrets"}},
		{"greedy", []string{"greedy"}},
		{"slow bodies", []string{"slow bodies"}},
		{"together", []string{"wrong secrets", "greedy", "slow bodies"}},
	}
	for _, ph := range phases {
		ctx, cancel := context.WithTimeout(context.Background(), phaseTime)
		var peak atomic.Int64
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for ctx.Err() == nil {
				if r := int64(vmRSS(pid)); r > peak.Load() {
					peak.Store(r)
				}
				<-tick.C
			}
		}()
		var wg sync.WaitGroup
		summaries := make([]string, len(ph.attacks))
		for i, name := range ph.attacks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				summaries[i] = attacks[name](ctx, p.addr)
			}()
		}
		// The careful client runs as long as the attack does.
		ok, failures := wellBehaved(ctx, p.addr, good)
		wg.Wait()
		cancel()
		<-sampled
		assert.Empty(t, failures, "%s: the well-behaved client's lookups all answer 200", ph.name)
		assert.Positive(t, ok, "%s: the well-behaved client was served", ph.name)
		assert.Less(t, int(peak.Load()), rssCeilingKiB, "%s: RSS in KiB under the ceiling", ph.name)
		t.Logf("%s: well-behaved client %d/%d answered 200; service RSS peak %.1f MiB; %s",
			ph.name, ok, ok+len(failures), float64(peak.Load())/1024, strings.Join(summaries, "; "))
	}
	t.Logf("service peak RSS over the test (VmHWM): %.1f MiB (ceiling %d MiB)", float64(vmHWM(t, pid))/1024, rssCeilingKiB/1024)
	require.NoError(t, p.stop(t))
}
