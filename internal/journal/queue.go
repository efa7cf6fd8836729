package journal

import "slices"

// queue is the in-memory FIFO of records: a ring whose capacity is a power
// of two, grown by doubling and released when it empties after a burst.
// Push never allocates once the ring has grown to the working size; taking
// a batch copies at most a batch out. It is guarded by Journal.mu.
type queue struct {
	buf  []Consultation
	head int
	n    int
}

const (
	queueMinCap  = 1 << 10
	queueKeepCap = 1 << 16 // a ring larger than this is released when empty
)

func (q *queue) len() int { return q.n }

func (q *queue) push(c Consultation) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = c
	q.n++
}

func (q *queue) grow() {
	nb := make([]Consultation, max(queueMinCap, 2*len(q.buf)))
	q.copyOut(nb, q.head, q.n)
	q.buf, q.head = nb, 0
}

// copyOut copies k records from position i of the ring into dst.
func (q *queue) copyOut(dst []Consultation, i, k int) {
	if k == 0 {
		return
	}
	m := len(q.buf) - 1
	i &= m
	first := min(k, len(q.buf)-i)
	copy(dst, q.buf[i:i+first])
	copy(dst[first:], q.buf[:k-first])
}

// clearRange zeroes k slots from position i, so that the strings they
// referenced can be collected.
func (q *queue) clearRange(i, k int) {
	if k == 0 {
		return
	}
	m := len(q.buf) - 1
	i &= m
	first := min(k, len(q.buf)-i)
	clear(q.buf[i : i+first])
	clear(q.buf[:k-first])
}

// popFront appends the k oldest records to dst and removes them.
func (q *queue) popFront(dst []Consultation, k int) []Consultation {
	k = min(k, q.n)
	if k <= 0 {
		return dst
	}
	start := len(dst)
	dst = slices.Grow(dst, k)[:start+k]
	q.copyOut(dst[start:], q.head, k)
	q.clearRange(q.head, k)
	q.head = (q.head + k) & (len(q.buf) - 1)
	q.n -= k
	q.shrink()
	return dst
}

// popBack removes the k newest records and returns them, oldest first.
func (q *queue) popBack(k int) []Consultation {
	k = min(k, q.n)
	if k <= 0 {
		return nil
	}
	out := make([]Consultation, k)
	i := q.head + q.n - k
	q.copyOut(out, i, k)
	q.clearRange(i, k)
	q.n -= k
	q.shrink()
	return out
}

func (q *queue) shrink() {
	if q.n == 0 {
		q.head = 0
		if len(q.buf) > queueKeepCap {
			q.buf = nil
		}
	}
}
