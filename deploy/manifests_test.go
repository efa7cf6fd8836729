package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/aglae-connector/aglae-connector/internal/cli"
	"github.com/aglae-connector/aglae-connector/internal/server"
)

// journalFlush is how long the service gives the consultation log after
// the requests in flight, at shutdown (server.Main.closeAll).
const journalFlush = 10 * time.Second

// unit reads a systemd unit: each key's values, in order.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "not KEY=value: %q", line)
		keys[k] = append(keys[k], v)
	}
	require.NoError(t, sc.Err())
	return keys
}

// TestSystemdUnit checks the hardening the unit must keep, and that it
// waits long enough at stop for the service's own shutdown.
func TestSystemdUnit(t *testing.T) {
	u := unit(t, repo("deploy", "systemd", "aglae-connector.service"))
	for k, want := range map[string]string{
		"DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces": "yes",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "SystemCallArchitectures": "native",
		"ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
		"ProtectControlGroups": "yes", "ProtectClock": "yes", "ProtectHostname": "yes",
		"RestrictRealtime": "yes", "RestrictSUIDSGID": "yes", "RemoveIPC": "yes", "UMask": "0077",
		"StateDirectory": "aglae-connector", "EnvironmentFile": "/etc/aglae-connector/env",
		"Restart": "on-failure", "KillSignal": "SIGTERM",
	} {
		if assert.Contains(t, u, k) {
			assert.Equal(t, want, u[k][0], k)
		}
	}
	assert.Contains(t, u["SystemCallFilter"], "@system-service")
	assert.NotEmpty(t, u["LimitNOFILE"])
	assert.Equal(t, []string{"/usr/local/bin/aglae-connector serve"}, u["ExecStart"])
	// The spool goes to $STATE_DIRECTORY/consultations: nothing may move it.
	for _, v := range u["Environment"] {
		assert.NotContains(t, v, "SPOOL_DIR", "the spool belongs in the state directory")
	}
	require.Len(t, u["TimeoutStopSec"], 1)
	stop, err := time.ParseDuration(u["TimeoutStopSec"][0])
	require.NoError(t, err)
	assert.Greater(t, stop, server.Defaults().ShutdownTimeout+journalFlush,
		"TimeoutStopSec must leave the service its shutdown timeout and the log's flush")
}

// serveVariables are the environment variables `serve` reads, taken from
// its configuration struct so that a new one cannot be forgotten here.
func serveVariables(t *testing.T) []string {
	t.Helper()
	return cli.ServeVariables()
}

// TestEnvExample checks that deploy/systemd/env.example names every
// variable `serve` reads, and none it does not.
func TestEnvExample(t *testing.T) {
	b, err := os.ReadFile(repo("deploy", "systemd", "env.example"))
	require.NoError(t, err)
	known := serveVariables(t)
	require.Contains(t, known, "LISTEN_ADDR", "the configuration of serve no longer looks like this test expects")
	set := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#?([A-Z][A-Z0-9_]+)=`).FindAllStringSubmatch(string(b), -1) {
		assert.Contains(t, known, m[1], "env.example sets a variable serve does not read")
		set[m[1]] = true
	}
	for _, v := range known {
		assert.True(t, set[v], "env.example does not mention %s, which serve reads", v)
	}
	assert.Regexp(t, `(?m)^DATABASE_URL=`, string(b), "DATABASE_URL is the one required variable")
}

// manifests reads every YAML document of deploy/kubernetes, by kind and
// name.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(repo("deploy", "kubernetes", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	docs := map[string]map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err, f)
			if doc == nil {
				continue
			}
			kind, _ := doc["kind"].(string)
			require.NotEmpty(t, kind, "%s: a document without a kind", f)
			name, _ := get(doc, "metadata", "name").(string)
			docs[filepath.Base(f)+":"+kind+"/"+name] = doc
		}
	}
	return docs
}

// get walks a decoded YAML document: a string is a map key, an int a list
// index; nil when absent.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func find(t *testing.T, docs map[string]map[string]any, kind, name string) map[string]any {
	t.Helper()
	for k, d := range docs {
		if strings.HasSuffix(k, ":"+kind+"/"+name) {
			return d
		}
	}
	t.Fatalf("no %s %s in deploy/kubernetes", kind, name)
	return nil
}

// TestKubernetesManifests checks the invariants the manifests must keep:
// probes, security, resources, the spool's volume, the grace period, the
// Service's ports and the PodDisruptionBudget.
func TestKubernetesManifests(t *testing.T) {
	docs := manifests(t)

	kust := find(t, docs, "Kustomization", "")
	config := map[string]string{}
	for _, r := range get(kust, "resources").([]any) {
		_, err := os.Stat(repo("deploy", "kubernetes", r.(string)))
		assert.NoError(t, err, "kustomization resource")
	}
	for _, g := range get(kust, "configMapGenerator").([]any) {
		if get(g, "name") == "aglae-connector" {
			for _, l := range get(g, "literals").([]any) {
				k, v, _ := strings.Cut(l.(string), "=")
				config[k] = v
			}
		}
	}
	known := serveVariables(t)
	for k := range config {
		if k != "GOMEMLIMIT" {
			assert.Contains(t, known, k, "the ConfigMap sets a variable serve does not read")
		}
	}

	dep := find(t, docs, "Deployment", "aglae-connector")
	assert.GreaterOrEqual(t, get(dep, "spec", "replicas"), 2)
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", 0)
	assert.Equal(t, []any{"serve"}, get(c, "args"))
	assert.Equal(t, "/readyz", get(c, "readinessProbe", "httpGet", "path"))
	assert.Equal(t, "/healthz", get(c, "livenessProbe", "httpGet", "path"))
	assert.NotNil(t, get(c, "startupProbe", "httpGet", "path"))
	assert.Equal(t, "50m", get(c, "resources", "requests", "cpu"))
	assert.Equal(t, "64Mi", get(c, "resources", "requests", "memory"))
	assert.Equal(t, "1", get(c, "resources", "limits", "cpu"))
	assert.Equal(t, "128Mi", get(c, "resources", "limits", "memory"))
	assert.Equal(t, true, get(pod, "securityContext", "runAsNonRoot"))
	assert.Equal(t, "RuntimeDefault", get(pod, "securityContext", "seccompProfile", "type"))
	assert.Equal(t, true, get(c, "securityContext", "readOnlyRootFilesystem"))
	assert.Equal(t, false, get(c, "securityContext", "allowPrivilegeEscalation"))
	assert.Equal(t, []any{"ALL"}, get(c, "securityContext", "capabilities", "drop"))
	assert.Equal(t, "aglae-connector-db", get(c, "env", 0, "valueFrom", "secretKeyRef", "name"))
	assert.Equal(t, "DATABASE_URL", get(c, "env", 0, "name"))

	// The service listens where the probes and the Service look.
	_, port, err := net.SplitHostPort(config["LISTEN_ADDR"])
	require.NoError(t, err)
	assert.Equal(t, port, "8080")
	assert.Equal(t, 8080, get(c, "ports", 0, "containerPort"))
	assert.Equal(t, "http", get(c, "ports", 0, "name"))

	// The spool is a folder the service creates inside the volume: it
	// refuses one that is not its user's, as the volume's root is not.
	mount := get(c, "volumeMounts", 0, "mountPath").(string)
	assert.NotNil(t, get(pod, "volumes", 0, "emptyDir"))
	assert.Equal(t, get(c, "volumeMounts", 0, "name"), get(pod, "volumes", 0, "name"))
	assert.Equal(t, mount, filepath.Dir(config["SPOOL_DIR"]), "SPOOL_DIR must be a folder right inside the volume")

	// The grace period covers the preStop pause, the requests in flight
	// and the log's flush.
	shutdown, err := time.ParseDuration(config["SHUTDOWN_TIMEOUT"])
	require.NoError(t, err)
	pause, _ := get(c, "lifecycle", "preStop", "sleep", "seconds").(int)
	grace := time.Duration(get(pod, "terminationGracePeriodSeconds").(int)) * time.Second
	assert.Greater(t, grace, time.Duration(pause)*time.Second+shutdown+journalFlush)

	svc := find(t, docs, "Service", "aglae-connector")
	assert.Equal(t, "ClusterIP", get(svc, "spec", "type"))
	assert.Equal(t, 80, get(svc, "spec", "ports", 0, "port"))
	assert.Equal(t, "http", get(svc, "spec", "ports", 0, "targetPort"))
	assert.Equal(t, get(dep, "spec", "selector", "matchLabels"), get(svc, "spec", "selector"))

	pdb := find(t, docs, "PodDisruptionBudget", "aglae-connector")
	assert.Equal(t, 1, get(pdb, "spec", "minAvailable"))
	assert.Equal(t, get(dep, "spec", "selector", "matchLabels"), get(pdb, "spec", "selector", "matchLabels"))

	job := find(t, docs, "Job", "aglae-connector-migrate")
	jc := get(job, "spec", "template", "spec", "containers", 0)
	assert.Equal(t, []any{"migrate"}, get(jc, "args"))
	assert.Equal(t, "aglae-connector-migrate", get(jc, "env", 0, "valueFrom", "secretKeyRef", "name"),
		"migrations run as aglae_owner, with credentials the service's pods never see")
	assert.Equal(t, true, get(jc, "securityContext", "readOnlyRootFilesystem"))
}
