package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Names of the spool's files.
const (
	segmentPrefix = "consultations-"
	segmentExt    = ".jsonl"
	rejectPrefix  = "rejetees-"
	lockName      = ".lock"
	tmpExt        = ".tmp"
)

// segment is one spool file: JSON Lines, one Consultation a line.
type segment struct {
	name   string // base name in the spool directory
	n      int    // records in the file
	broken bool   // unreadable: left for the next start
}

// spool is the directory where records wait while the database is down.
// Appends are fsynced before they return; a segment is removed only after
// its records committed.
type spool struct {
	dir    string
	segMax int
	stamp  string // distinguishes this journal's files from a previous run's
	log    *zap.Logger

	mu      sync.Mutex
	segs    []*segment // oldest first
	cur     *segment   // the segment appends go to, open as curFile
	curFile *os.File
	seq     int
	closed  bool     // after Close: each append makes its own segment
	lock    *os.File // holds the directory's lock until close

	n atomic.Int64 // records in the spool

	rejMu sync.Mutex
}

func openSpool(dir string, segMax int, log *zap.Logger) (*spool, error) {
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &spool{
		dir:    dir,
		segMax: segMax,
		stamp:  fmt.Sprintf("%020d-", time.Now().UnixNano()),
		log:    log,
		lock:   lock,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		unlockDir(lock)
		return nil, fmt.Errorf("journal: spool directory %s: %w", dir, err)
	}
	for _, e := range entries { // sorted by name: oldest first
		name := e.Name()
		switch {
		case strings.HasSuffix(name, tmpExt):
			// An interrupted rewrite: the segment it was replacing is intact.
			_ = os.Remove(filepath.Join(dir, name))
		case strings.HasPrefix(name, segmentPrefix) && strings.HasSuffix(name, segmentExt) && e.Type().IsRegular():
			n, err := countLines(filepath.Join(dir, name))
			if err != nil {
				log.Error("consultation log: cannot read a spool segment; leaving it for the next start",
					zap.String("file", name), safeErr(err))
				continue
			}
			if n == 0 {
				_ = os.Remove(filepath.Join(dir, name))
				continue
			}
			s.segs = append(s.segs, &segment{name: name, n: n})
			s.n.Add(int64(n))
		}
	}
	return s, nil
}

// prepareDir creates dir (mode 0700) when needed, checks that it belongs to
// this process's user and makes sure nobody else can read it.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("journal: spool directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("journal: spool directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("journal: spool directory %s is not a directory", dir)
	}
	if err := checkOwner(fi); err != nil {
		return fmt.Errorf("journal: spool directory %s: %w", dir, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("journal: spool directory: %w", err)
		}
	}
	return nil
}

// countLines counts the records of a segment: its lines, the last one
// possibly unterminated.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	n, last := 0, byte('\n')
	for {
		k, err := f.Read(buf)
		if k > 0 {
			n += bytes.Count(buf[:k], []byte{'\n'})
			last = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if last != '\n' {
		n++
	}
	return n, nil
}

func (s *spool) count() int { return int(s.n.Load()) }

func (s *spool) path(name string) string { return filepath.Join(s.dir, name) }

// encode returns recs as JSON Lines and where each line ends.
func encode(recs []Consultation) ([]byte, []int, error) {
	buf := make([]byte, 0, len(recs)*384)
	ends := make([]int, len(recs))
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			return nil, nil, err
		}
		buf = append(buf, b...)
		buf = append(buf, '\n')
		ends[i] = len(buf)
	}
	return buf, ends, nil
}

// append writes recs at the end of the spool and fsyncs them. It returns
// how many of them (a prefix) are durable; fewer than len(recs) only with
// an error.
func (s *spool) append(recs []Consultation) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	buf, ends, err := encode(recs)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	done, start := 0, 0
	for done < len(recs) {
		if s.cur == nil || s.cur.n >= s.segMax {
			if err := s.newSegment(); err != nil {
				return done, err
			}
		}
		k := min(len(recs)-done, s.segMax-s.cur.n)
		end := ends[done+k-1]
		if err := s.writeSync(buf[start:end]); err != nil {
			return done, err
		}
		s.cur.n += k
		s.n.Add(int64(k))
		done += k
		start = end
		if s.closed {
			s.closeCur()
		}
	}
	return done, nil
}

// newSegment starts a new segment file and makes its name durable.
func (s *spool) newSegment() error {
	s.closeCur()
	for {
		s.seq++
		name := fmt.Sprintf("%s%s%010d%s", segmentPrefix, s.stamp, s.seq, segmentExt)
		f, err := os.OpenFile(s.path(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := syncDir(s.dir); err != nil {
			_ = f.Close()
			_ = os.Remove(s.path(name))
			return err
		}
		seg := &segment{name: name}
		s.segs = append(s.segs, seg)
		s.cur, s.curFile = seg, f
		return nil
	}
}

// writeSync appends b to the current segment and fsyncs it. On failure it
// cuts the file back to where it was and seals the segment, so that no
// torn or unacknowledged line stays behind.
func (s *spool) writeSync(b []byte) error {
	fi, err := s.curFile.Stat()
	if err != nil {
		s.closeCur()
		return err
	}
	_, err = s.curFile.Write(b)
	if err == nil {
		err = s.curFile.Sync()
	}
	if err != nil {
		_ = s.curFile.Truncate(fi.Size())
		s.closeCur()
	}
	return err
}

// closeCur seals the current segment: later appends go to a new one.
func (s *spool) closeCur() {
	if s.curFile != nil {
		if err := s.curFile.Close(); err != nil {
			s.log.Warn("consultation log: closing a spool segment", safeErr(err))
		}
	}
	s.cur, s.curFile = nil, nil
}

// oldest returns the oldest segment to replay, sealing it if appends were
// still going to it, or nil.
func (s *spool) oldest() *segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, seg := range s.segs {
		if seg.broken {
			continue
		}
		if seg == s.cur {
			if seg.n == 0 {
				return nil
			}
			s.closeCur()
		}
		return seg
	}
	return nil
}

// load reads a sealed segment. Lines that do not decode (a line torn by a
// crash) are set aside in the rejected file.
func (s *spool) load(seg *segment, j *Journal) ([]Consultation, error) {
	data, err := os.ReadFile(s.path(seg.name))
	if err != nil {
		s.mu.Lock()
		seg.broken = true
		s.mu.Unlock()
		return nil, err
	}
	recs := make([]Consultation, 0, seg.n)
	var bad [][]byte
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var c Consultation
		if err := json.Unmarshal(line, &c); err != nil {
			bad = append(bad, line)
			continue
		}
		recs = append(recs, c)
	}
	if len(bad) > 0 {
		if err := s.reject(bad); err != nil {
			s.mu.Lock()
			seg.broken = true
			s.mu.Unlock()
			return nil, err
		}
		j.rejected.Add(uint64(len(bad)))
		j.log.Error("consultation log: undecodable lines in a spool segment (torn by a crash?) set aside",
			zap.String("file", seg.name), zap.Int("lines", len(bad)), zap.String("rejected_file", s.rejectName()))
	}
	s.mu.Lock()
	s.n.Add(int64(len(recs) - seg.n))
	seg.n = len(recs)
	s.mu.Unlock()
	return recs, nil
}

// done removes a segment whose records all committed. If the removal fails
// the segment will be replayed at the next start: duplicates, not losses.
func (s *spool) done(seg *segment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(s.path(seg.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.log.Error("consultation log: cannot remove a replayed spool segment; its records will be written again at the next start",
			zap.String("file", seg.name), zap.Int("records", seg.n), safeErr(err))
	} else if err := syncDir(s.dir); err != nil {
		s.log.Warn("consultation log: cannot sync the spool directory", safeErr(err))
	}
	if i := slices.Index(s.segs, seg); i >= 0 {
		s.segs = slices.Delete(s.segs, i, i+1)
	}
	s.n.Add(-int64(seg.n))
	seg.n = 0
}

// rewrite replaces a segment whose beginning committed by its remaining
// records, atomically (write, fsync, rename), so that a later replay does
// not write the committed ones again.
func (s *spool) rewrite(seg *segment, remaining []Consultation) {
	err := func() error {
		buf, _, err := encode(remaining)
		if err != nil {
			return err
		}
		tmp := s.path(seg.name + tmpExt)
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, s.path(seg.name))
		}
		if err != nil {
			_ = os.Remove(tmp)
			return err
		}
		return syncDir(s.dir)
	}()
	if err != nil {
		s.log.Warn("consultation log: cannot shorten a partly written spool segment; a restart now would write some records twice",
			zap.String("file", seg.name), safeErr(err))
	}
	s.mu.Lock()
	s.n.Add(int64(len(remaining) - seg.n))
	seg.n = len(remaining)
	s.mu.Unlock()
}

func (s *spool) rejectName() string {
	return rejectPrefix + strings.TrimSuffix(s.stamp, "-") + segmentExt
}

// reject appends lines to the rejected file, for an operator: records the
// database refused as invalid, or spool lines that do not decode. They are
// never replayed automatically.
func (s *spool) reject(lines [][]byte) error {
	s.rejMu.Lock()
	defer s.rejMu.Unlock()
	p := s.path(s.rejectName())
	_, statErr := os.Stat(p)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	var buf []byte
	for _, l := range lines {
		buf = append(buf, l...)
		buf = append(buf, '\n')
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && statErr != nil {
		err = syncDir(s.dir)
	}
	return err
}

func (s *spool) rejectRecords(recs []Consultation) error {
	buf, ends, err := encode(recs)
	if err != nil {
		return err
	}
	lines := make([][]byte, len(recs))
	start := 0
	for i, e := range ends {
		lines[i] = buf[start : e-1]
		start = e
	}
	return s.reject(lines)
}

// close seals the current segment and releases the directory's lock.
// Appends still work afterwards, each in a segment of its own.
func (s *spool) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeCur()
	s.closed = true
	if s.lock != nil {
		unlockDir(s.lock)
		s.lock = nil
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
