package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
)

// compareMain prints two reports side by side: bench compare OLD NEW.
func compareMain(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: bench compare OLD.json NEW.json")
		return 2
	}
	var reps [2]*report
	for i, path := range args {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(stderr, "bench compare:", err)
			return 1
		}
		reps[i] = &report{}
		if err := json.Unmarshal(b, reps[i]); err != nil {
			fmt.Fprintf(stderr, "bench compare: %s: %v\n", path, err)
			return 1
		}
	}
	compare(stdout, args[0], args[1], reps[0], reps[1])
	return 0
}

// compare prints the figures of old and new and the change.
func compare(w io.Writer, oldName, newName string, old, new *report) {
	for _, x := range []struct {
		label, name string
		r           *report
	}{{"old", oldName, old}, {"new", newName, new}} {
		fmt.Fprintf(w, "%s: %s (%s, %s, %d dossiers, %s connections, %s, load average before %s)\n", x.label, x.name, x.r.Git,
			x.r.Started.Format("2006-01-02 15:04"), x.r.Database.Dossiers, x.r.Flags["connections"], x.r.Flags["duration"],
			x.r.Machine.LoadAverageStart)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\told\tnew\tchange\t")
	row := func(name string, a, b float64, format string) {
		fmt.Fprintf(tw, "%s\t"+format+"\t"+format+"\t%s\t\n", name, a, b, change(a, b))
	}
	for _, op := range old.Phases {
		np := new.phase(op.Name)
		if np == nil || op.Status != "ok" {
			continue
		}
		row(op.Name+" req/s", op.RequestsPerSecond, np.RequestsPerSecond, "%.0f")
		row(op.Name+" p50 ms", op.LatencyMs.P50, np.LatencyMs.P50, "%.2f")
		row(op.Name+" p99 ms", op.LatencyMs.P99, np.LatencyMs.P99, "%.2f")
		row(op.Name+" p99.9 ms", op.LatencyMs.P999, np.LatencyMs.P999, "%.2f")
		if op.Memory != nil && np.Memory != nil {
			row(op.Name+" peak RSS MiB", op.Memory.PeakRSSMiB, np.Memory.PeakRSSMiB, "%.1f")
		}
		if op.CPU != nil && np.CPU != nil && op.Name != phaseDB {
			row(op.Name+" server µs/req", op.CPU.ServerMicrosPerRequest, np.CPU.ServerMicrosPerRequest, "%.0f")
		}
	}
	for _, k := range []string{"rest_over_plain", "soap_over_rest", "rest_over_db"} {
		a, okA := old.Ratios[k]
		b, okB := new.Ratios[k]
		if okA && okB {
			row(k, a, b, "%.3f")
		}
	}
	if old.Recheck != nil && new.Recheck != nil && old.Recheck.Status == "ok" && new.Recheck.Status == "ok" {
		row("recheck identifiers/s", old.Recheck.IdentifiersPerSecond, new.Recheck.IdentifiersPerSecond, "%.0f")
	}
	if old.Import != nil && new.Import != nil {
		row("import dossiers/s", old.Import.DossiersPerSecond, new.Import.DossiersPerSecond, "%.0f")
		row("import peak RSS MiB", old.Import.PeakRSSMiB, new.Import.PeakRSSMiB, "%.1f")
	}
	tw.Flush()
}

func change(a, b float64) string {
	if a == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f %%", (b-a)/a*100)
}
