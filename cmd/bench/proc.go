package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// cleanups are what run undoes at its end, last registered first.
type cleanups struct {
	mu    sync.Mutex
	steps []cleanupStep
}

type cleanupStep struct {
	what string
	do   func() error
}

func (c *cleanups) add(what string, do func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps = append(c.steps, cleanupStep{what, do})
}

// run undoes every step, last first, and reports failures on stderr.
func (c *cleanups) run() {
	c.mu.Lock()
	steps := c.steps
	c.steps = nil
	c.mu.Unlock()
	for i := len(steps) - 1; i >= 0; i-- {
		if err := steps[i].do(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: cleanup: %s: %v\n", steps[i].what, err)
		}
	}
}

// command returns a command run in dir, in its own process group (a Ctrl-C
// on the terminal reaches the harness only, which stops its children in
// order); the end of ctx sends SIGTERM to the group, SIGKILL 10 s later.
// It gets SIGTERM if the harness dies.
func command(ctx context.Context, dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// output runs cmd and returns its stdout; its error carries the end of
// stderr.
func output(cmd *exec.Cmd) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%s: %w%s", filepath.Base(cmd.Path), err, indentTail(stderr.String(), 20))
	}
	return stdout.String(), nil
}

// indentTail returns the last n lines of s, indented, after a newline; ""
// when s is blank.
func indentTail(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	if strings.TrimSpace(s) == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n    " + strings.Join(lines, "\n    ")
}

// child is a long-running process: the service, the plain handler.
type child struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startChild starts cmd with stdout and stderr in the file logPath, in its
// own process group.
func startChild(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		f.Close()
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits up to grace for a clean exit, then kills
// the group. The error says when the exit was not clean.
func (c *child) stop(grace time.Duration) error {
	if c.exited() {
		if c.err != nil {
			return fmt.Errorf("%s had exited: %w%s", c.name, c.err, indentTail(tailFile(c.log), 10))
		}
		return nil
	}
	_ = syscall.Kill(-c.pid(), syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		_ = syscall.Kill(-c.pid(), syscall.SIGKILL)
		<-c.done
		return fmt.Errorf("%s did not stop within %s after SIGTERM: killed", c.name, grace)
	}
	if c.err != nil {
		return fmt.Errorf("%s: %w%s", c.name, c.err, indentTail(tailFile(c.log), 10))
	}
	return nil
}

// tailFile returns the last 8 KiB of a log file.
func tailFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-8<<10, 0)
	b := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(b, off)
	return string(b[:n])
}

// memory reads VmRSS and VmHWM (peak RSS) of a process, in bytes.
func memory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		var dst *int64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		fields := strings.Fields(line)
		if len(fields) >= 2 {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			*dst = kb << 10
		}
	}
	if rss == 0 && hwm == 0 {
		return 0, 0, fmt.Errorf("no memory figures for process %d (has it exited?)", pid)
	}
	return rss, hwm, sc.Err()
}

// resetPeak resets a process's VmHWM to its current RSS (Linux ≥ 4.0), so
// that the peak of one phase is not that of an earlier one.
func resetPeak(pid int) bool {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0) == nil
}

// memSampler records the highest VmRSS and VmHWM of a process, read every
// 100 ms.
type memSampler struct {
	pid            int
	maxRSS, maxHWM atomic.Int64
	stopc, done    chan struct{}
}

func sampleMemory(pid int) *memSampler {
	s := &memSampler{pid: pid, stopc: make(chan struct{}), done: make(chan struct{})}
	s.read()
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-t.C:
				s.read()
			}
		}
	}()
	return s
}

func (s *memSampler) read() {
	rss, hwm, err := memory(s.pid)
	if err != nil {
		return
	}
	if rss > s.maxRSS.Load() {
		s.maxRSS.Store(rss)
	}
	if hwm > s.maxHWM.Load() {
		s.maxHWM.Store(hwm)
	}
}

// stop takes a last reading and returns the highest figures.
func (s *memSampler) stop() (maxRSS, hwm int64) {
	close(s.stopc)
	<-s.done
	s.read()
	return s.maxRSS.Load(), s.maxHWM.Load()
}

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procStat reads a process's parent and CPU time (user + system).
func procStat(pid int) (ppid int, cpu time.Duration, err error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name, in parentheses, may hold spaces: fields start after
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, errors.New("malformed /proc stat")
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, time.Duration(ut+st) * clockTick, nil
}

// processCPU is a process's CPU time so far; 0 when it cannot be read.
func processCPU(pid int) time.Duration {
	_, cpu, _ := procStat(pid)
	return cpu
}

// selfCPU is the harness's own CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clusterCPU is the CPU time of the postmaster and of its live children
// (backends, WAL writer, checkpointer…). Backends that ended are missing:
// the phases keep their connections open.
func clusterCPU(postmaster int) time.Duration {
	if postmaster <= 0 {
		return 0
	}
	total := processCPU(postmaster)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, cpu, err := procStat(pid); err == nil && ppid == postmaster {
			total += cpu
		}
	}
	return total
}

// postmasterPID reads the postmaster's pid from its data folder.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// cpuMeter measures the CPU the generator (this process), the measured
// server and PostgreSQL spend during a phase.
type cpuMeter struct {
	server, postmaster int
	gen, srv, pg       time.Duration
	start              time.Time
}

func startCPU(server, postmaster int) *cpuMeter {
	m := &cpuMeter{server: server, postmaster: postmaster, start: time.Now()}
	m.gen, m.pg = selfCPU(), clusterCPU(postmaster)
	if server > 0 {
		m.srv = processCPU(server)
	}
	return m
}

// stop returns the CPU spent since start, per request as well, and the
// share of the machine's CPU time the three took: well below 100 % in a
// closed loop, other processes took the rest.
func (m *cpuMeter) stop(requests int64) *cpuUse {
	el := time.Since(m.start)
	u := &cpuUse{
		GeneratorSeconds: round((selfCPU() - m.gen).Seconds(), 3),
		PostgresSeconds:  round((clusterCPU(m.postmaster) - m.pg).Seconds(), 3),
	}
	if m.server > 0 {
		u.ServerSeconds = round((processCPU(m.server) - m.srv).Seconds(), 3)
	}
	if el > 0 {
		used := u.GeneratorSeconds + u.PostgresSeconds + u.ServerSeconds
		u.MachineShare = round(used/(el.Seconds()*float64(runtime.NumCPU())), 3)
	}
	if requests > 0 {
		per := func(s float64) float64 { return round(s*1e6/float64(requests), 1) }
		u.ServerMicrosPerRequest = per(u.ServerSeconds)
		u.PostgresMicrosPerRequest = per(u.PostgresSeconds)
		u.GeneratorMicrosPerRequest = per(u.GeneratorSeconds)
	}
	return u
}

// backendCPU follows the CPU time of a cluster's processes while they come
// and go (an import's backend ends with it, taking its CPU time along):
// every 100 ms it notes each child's time, last seen.
type backendCPU struct {
	postmaster int
	first      map[int]time.Duration
	last       map[int]time.Duration
	stopc      chan struct{}
	done       chan struct{}
}

func startBackendCPU(postmaster int) *backendCPU {
	b := &backendCPU{postmaster: postmaster, last: map[int]time.Duration{}, stopc: make(chan struct{}), done: make(chan struct{})}
	b.read()
	b.first = maps.Clone(b.last)
	go func() {
		defer close(b.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stopc:
				return
			case <-t.C:
				b.read()
			}
		}
	}()
	return b
}

func (b *backendCPU) read() {
	if b.postmaster <= 0 {
		return
	}
	b.last[b.postmaster] = processCPU(b.postmaster)
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, cpu, err := procStat(pid); err == nil && ppid == b.postmaster {
			b.last[pid] = cpu
		}
	}
}

// stop returns the CPU time spent since the start.
func (b *backendCPU) stop() time.Duration {
	close(b.stopc)
	<-b.done
	b.read()
	var total time.Duration
	for pid, t := range b.last {
		total += t - b.first[pid]
	}
	return total
}
