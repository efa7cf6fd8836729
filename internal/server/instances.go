package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DefaultInstanceHeartbeat is how often an instance beats when
// Config.InstanceHeartbeat is 0.
const DefaultInstanceHeartbeat = 5 * time.Second

// instanceRegistry is where the instances beat: postgres.Instances.
type instanceRegistry interface {
	Beat(ctx context.Context, id string, live time.Duration) (int, error)
	Leave(ctx context.Context, id string) error
}

// instances counts the live instances of the service for the rate
// limiter (auth.Instances): it beats every interval in the background,
// and Live answers from memory. An instance counts as live while it beat
// within three intervals. When the database does not answer, the last
// count stays (and the failure is logged once until it answers again).
type instances struct {
	id    string
	every time.Duration
	reg   instanceRegistry
	log   *zap.Logger

	n      atomic.Int64
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once
}

func newInstances(reg instanceRegistry, every time.Duration, log *zap.Logger) *instances {
	if every <= 0 {
		every = DefaultInstanceHeartbeat
	}
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	i := &instances{
		id:    fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		every: every, reg: reg, log: log,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	i.n.Store(1)
	return i
}

// Live is the number of live instances, this one included; 1 until the
// first beat answered.
func (i *instances) Live() int { return int(i.n.Load()) }

// run beats at once, then every interval, until close.
func (i *instances) run() {
	defer close(i.done)
	t := time.NewTicker(i.every)
	defer t.Stop()
	failing := false
	for {
		ctx, cancel := context.WithTimeout(context.Background(), i.every)
		n, err := i.reg.Beat(ctx, i.id, 3*i.every)
		cancel()
		switch {
		case err != nil && !failing:
			failing = true
			i.log.Warn("instance heartbeat failed: rate limits keep the last count of instances",
				zap.Int("instances", i.Live()), zap.Error(err))
		case err == nil:
			if failing {
				failing = false
				i.log.Info("instance heartbeat works again")
			}
			if old := i.n.Swap(int64(n)); old != int64(n) {
				i.log.Info("instances sharing the rate limits", zap.Int("instances", n), zap.Int64("before", old), zap.String("instance", i.id))
			}
		}
		select {
		case <-i.stop:
			return
		case <-t.C:
		}
	}
}

// close stops the beats and deregisters this instance, so that the others
// take its share back at their next beat. Calls after the first do
// nothing.
func (i *instances) close(ctx context.Context) {
	i.closed.Do(func() { i.leave(ctx) })
}

func (i *instances) leave(ctx context.Context) {
	close(i.stop)
	<-i.done
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := i.reg.Leave(ctx, i.id); err != nil {
		i.log.Warn("instance could not deregister: the others count it out within three heartbeats", zap.Error(err))
	}
}
