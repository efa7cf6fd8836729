package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The phases of issue 12, item 4: the plainest handler, REST and SOAP
// measured by wrk one after the other in the same run (wrk costs a few µs
// of CPU a request where vegeta costs 50 to 100, so the ratios say more of
// the service), and REST and SOAP open loop at --open-rate (the soak's
// rate), for their p99.
const (
	phaseWrk  = "wrk"
	phaseOpen = "open"
)

// wrkKeys is how many draws the wrk scripts cycle through.
const wrkKeys = 20_000

// wrkPhase measures plain, REST and SOAP with wrk (-t2, --connections,
// --duration), each after a warm-up; "unavailable" phases when wrk is not
// installed. wrk does not check the answers (the vegeta phases do): a
// non-2xx answer counts as an error.
func (b *bench) wrkPhase(ctx context.Context) error {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		for _, n := range []string{"wrk-plain", "wrk-rest", "wrk-soap"} {
			b.addPhase(&phaseResult{Name: n, Status: "unavailable", Detail: "wrk is not installed (apt-get install wrk)"})
		}
		return nil
	}
	rest, soap, err := b.wrkScripts()
	if err != nil {
		return err
	}
	plain, base, err := startPlain(ctx, b.tmp)
	if err != nil {
		return err
	}
	p := b.runWrk(ctx, bin, "wrk-plain", plain, base, "")
	if err := plain.stop(10 * time.Second); err != nil && p.Status == "ok" {
		p.Status, p.Detail = "failed", err.Error()
	}
	b.addPhase(p)
	for _, x := range []struct{ name, script string }{{"wrk-rest", rest}, {"wrk-soap", soap}} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.addPhase(b.runWrk(ctx, bin, x.name, b.server, b.base, x.script))
	}
	return nil
}

// wrkScripts writes the Lua scripts of the REST and SOAP loads: the first
// wrkKeys draws of their streams, with the harness's credentials.
func (b *bench) wrkScripts() (rest, soap string, err error) {
	var r, s strings.Builder
	r.WriteString("local paths = {\n")
	s.WriteString("local bodies = {\n")
	for i := range uint64(wrkKeys) {
		k := b.keys.at(streamREST, i)
		fmt.Fprintf(&r, "%q,\n", "/v1/boursiers/"+k.id+"?annee="+strconv.Itoa(k.annee))
		fmt.Fprintf(&s, "%q,\n", string(b.soap.envelope(b.keys.at(streamSOAP, i))))
	}
	r.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i + 1\n")
	fmt.Fprintf(&r, "  return wrk.format(\"GET\", paths[(i %% #paths) + 1], {[\"Authorization\"] = %q})\nend\n", b.bearer)
	s.WriteString("}\nlocal i = 0\nrequest = function()\n  i = i + 1\n")
	fmt.Fprintf(&s, "  return wrk.format(\"POST\", \"/ws/connecteur\", {[\"Authorization\"] = %q, [\"Content-Type\"] = \"text/xml; charset=utf-8\", [\"SOAPAction\"] = %q}, bodies[(i %% #bodies) + 1])\nend\n",
		b.basic, soapAction)
	rest, soap = filepath.Join(b.tmp, "wrk-rest.lua"), filepath.Join(b.tmp, "wrk-soap.lua")
	if err := os.WriteFile(rest, []byte(r.String()), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(soap, []byte(s.String()), 0o600); err != nil {
		return "", "", err
	}
	return rest, soap, nil
}

// runWrk runs wrk against base (script "" for a plain GET of /), a warm-up
// then --duration while the server's and PostgreSQL's CPU are measured.
func (b *bench) runWrk(ctx context.Context, bin, name string, server *child, base, script string) *phaseResult {
	args := func(d time.Duration) []string {
		// wrk takes whole seconds.
		secs := max(int64((d+time.Second/2)/time.Second), 1)
		a := []string{"-t2", "-c" + strconv.Itoa(b.cfg.connections), "-d" + strconv.FormatInt(secs, 10) + "s", "--latency"}
		if script != "" {
			a = append(a, "-s", script)
		}
		return append(a, base+"/")
	}
	if b.cfg.warmup > 0 {
		_, _ = output(exec.CommandContext(ctx, bin, args(b.cfg.warmup)...))
	}
	reset := resetPeak(server.pid())
	mem := sampleMemory(server.pid())
	cpu := startCPU(server.pid(), b.postmaster)
	cmd := exec.CommandContext(ctx, bin, args(b.cfg.duration)...)
	out, err := output(cmd)
	var ru time.Duration
	if cmd.ProcessState != nil {
		ru = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	maxRSS, hwm := mem.stop()
	p := &phaseResult{Name: name, Status: "ok", Connections: b.cfg.connections, Detail: "wrk -t2, answers not checked, no p99.9"}
	if err != nil {
		p.Status, p.Detail = "failed", err.Error()
		return p
	}
	w, perr := parseWrk(out)
	if perr != nil {
		p.Status, p.Detail = "failed", perr.Error()
		return p
	}
	p.Seconds = w.seconds
	p.Requests, p.Errors, p.RequestsPerSecond = w.requests, w.errors, round(w.rps, 0)
	p.LatencyMs = w.latency
	use := cpu.stop(w.requests)
	// The harness only waited for wrk: the generator's CPU is wrk's own.
	use.GeneratorSeconds = round(ru.Seconds(), 3)
	if w.requests > 0 {
		use.GeneratorMicrosPerRequest = round(ru.Seconds()*1e6/float64(w.requests), 1)
	}
	p.CPU = use
	if server != nil && b.server == server {
		p.Memory = &memoryUse{MaxRSSBytes: maxRSS, MaxRSSMiB: mib(maxRSS), PeakRSSBytes: hwm, PeakRSSMiB: mib(hwm), PeakIsThisPhase: reset}
	}
	return p
}

// wrkResult is what parseWrk reads from wrk's report.
type wrkResult struct {
	requests, errors int64
	seconds, rps     float64
	latency          latency
}

var (
	wrkTotal   = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkPct     = regexp.MustCompile(`^\s+(50|90|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$`)
	wrkAvg     = regexp.MustCompile(`^\s+Latency\s+([\d.]+)(us|ms|s)\s`)
)

// parseWrk reads wrk's report (with --latency).
func parseWrk(out string) (wrkResult, error) {
	var w wrkResult
	m := wrkTotal.FindStringSubmatch(out)
	r := wrkRPS.FindStringSubmatch(out)
	if m == nil || r == nil {
		return w, fmt.Errorf("cannot read wrk's report:%s", indentTail(out, 20))
	}
	w.requests, _ = strconv.ParseInt(m[1], 10, 64)
	w.seconds = wrkSeconds(m[2], m[3])
	w.rps, _ = strconv.ParseFloat(r[1], 64)
	if e := wrkNon2xx.FindStringSubmatch(out); e != nil {
		n, _ := strconv.ParseInt(e[1], 10, 64)
		w.errors += n
	}
	if e := wrkSockErr.FindStringSubmatch(out); e != nil {
		for _, s := range e[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			w.errors += n
		}
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if a := wrkAvg.FindStringSubmatch(line); a != nil {
			w.latency.Mean = round(wrkSeconds(a[1], a[2])*1e3, 3)
		}
		if p := wrkPct.FindStringSubmatch(line); p != nil {
			v := round(wrkSeconds(p[2], p[3])*1e3, 3)
			switch p[1] {
			case "50":
				w.latency.P50 = v
			case "90":
				w.latency.P90 = v
			case "99":
				w.latency.P99 = v
			}
		}
	}
	return w, nil
}

// wrkSeconds converts one of wrk's durations to seconds.
func wrkSeconds(v, unit string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	switch unit {
	case "us":
		return f / 1e6
	case "ms":
		return f / 1e3
	case "m":
		return f * 60
	}
	return f
}

// openPhase sends REST, then SOAP, lookups open loop at --open-rate for
// --duration (vegeta paces them whatever the answers' delay): the latency
// a client sees at a given load rather than at saturation.
func (b *bench) openPhase(ctx context.Context) error {
	for _, x := range []struct {
		name string
		load loadFunc
	}{{"rest-open", b.restLoad}, {"soap-open", b.soapLoad}} {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		spec := func(stream uint64, d time.Duration) loadSpec {
			tr, chk := x.load(stream)
			return loadSpec{targeter: tr, check: chk, connections: b.cfg.connections, rate: b.cfg.openRate, duration: d}
		}
		if b.cfg.warmup > 0 {
			attack(ctx, spec(streamWarmup, b.cfg.warmup))
		}
		reset := resetPeak(b.server.pid())
		mem := sampleMemory(b.server.pid())
		cpu := startCPU(b.server.pid(), b.postmaster)
		t, el := attack(ctx, spec(streamOpen, b.cfg.duration))
		use := cpu.stop(t.n.Load())
		maxRSS, hwm := mem.stop()
		p := newPhase(x.name, b.cfg.connections, t, el)
		p.Detail = fmt.Sprintf("open loop at %d req/s", b.cfg.openRate)
		p.CPU = use
		p.Memory = &memoryUse{MaxRSSBytes: maxRSS, MaxRSSMiB: mib(maxRSS), PeakRSSBytes: hwm, PeakRSSMiB: mib(hwm), PeakIsThisPhase: reset}
		if b.server.exited() {
			p.Status, p.Detail = "failed", fmt.Sprintf("the service exited during the phase: %v", b.server.err)
		}
		b.rep.Phases = append(b.rep.Phases, p)
		logf("%s", phaseLine(p))
	}
	return nil
}
