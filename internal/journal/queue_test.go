package journal

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueue checks the ring against a plain slice through pushes, pops at
// both ends, growth while wrapped around, and release when empty.
func TestQueue(t *testing.T) {
	var q queue
	var model []string
	next := 0
	push := func(k int) {
		for range k {
			id := strconv.Itoa(next)
			next++
			q.push(Consultation{RequestID: id})
			model = append(model, id)
		}
	}
	ids := func(cs []Consultation) []string {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = c.RequestID
		}
		return out
	}
	check := func() {
		t.Helper()
		require.Equal(t, len(model), q.len())
		got := q.popFront(nil, q.n)
		assert.Equal(t, model, append([]string{}, ids(got)...))
		for _, c := range got { // put them back
			q.push(c)
		}
	}
	push(1000)
	assert.Equal(t, model[:700], ids(q.popFront(nil, 700)))
	model = model[700:]
	push(900) // wraps around the 1024 ring
	check()
	push(2000) // grows while wrapped
	check()
	back := q.popBack(150)
	assert.Equal(t, model[len(model)-150:], ids(back))
	model = model[:len(model)-150]
	check()
	assert.Nil(t, q.popBack(0))
	assert.Nil(t, q.popBack(-3))
	buf := make([]Consultation, 0, 10)
	got := q.popFront(buf, 5)
	assert.Equal(t, model[:5], ids(got))
	model = model[5:]
	check()
	all := q.popFront(nil, q.n+10)
	assert.Equal(t, model, ids(all))
	assert.Zero(t, q.len())
	assert.Equal(t, 0, q.head)

	push(queueKeepCap + 1)
	q.popFront(nil, q.n)
	assert.Nil(t, q.buf, "a large ring is released once empty")
}
