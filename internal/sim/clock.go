package sim

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/clock"
	"github.com/cronrelay/cronrelay/internal/clock/clocktest"
)

// realOffset shifts the simulated scheduling clock onto the "real" timeline
// the engine uses for budgets, Retry-After and signatures. The shift puts
// that timeline a century ahead, so that the contexts the engine derives
// from it (context.WithDeadline compares against the wall clock) never
// expire while a test runs, whatever the simulated date.
const realOffset = 100 * 365 * 24 * time.Hour

// newClock returns one process's clock: a simulated instant that moves
// only when the process sleeps, waits for an answer, or is told to.
func newClock(t time.Time) *clocktest.Fake { return clocktest.New(t) }

// realClock is c on the real timeline, realOffset ahead; it sleeps on c.
func realClock(c *clocktest.Fake) clock.Clock {
	return clock.NewOffset(c.Now().Add(realOffset), c)
}

// hashU returns a number in [0, 1) that depends only on the seed and the
// parts. Every random choice made while runs execute concurrently is drawn
// this way, keyed by what it is about (a delivery id and attempt, a run and
// its n-th API call), so that the order in which goroutines get there does
// not matter.
func hashU(seed uint64, parts ...any) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	for _, p := range parts {
		h.Write([]byte{0x1f})
		switch v := p.(type) {
		case string:
			h.Write([]byte(v))
		case int:
			h.Write([]byte(strconv.Itoa(v)))
		case int64:
			h.Write([]byte(strconv.FormatInt(v, 10)))
		default:
			panic("hashU: unsupported part type")
		}
	}
	x := h.Sum64()
	// splitmix64 finaliser: FNV's low bits are weak.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / float64(1<<53)
}

// between maps u in [0, 1) onto [lo, hi).
func between(u float64, lo, hi time.Duration) time.Duration {
	return lo + time.Duration(u*float64(hi-lo))
}

// logUniform maps u onto [lo, hi) with a log-uniform spread.
func logUniform(u float64, lo, hi time.Duration) time.Duration {
	l, h := math.Log(float64(lo)), math.Log(float64(hi))
	return time.Duration(math.Exp(l + u*(h-l)))
}

// scheduler orders the state-store operations of runs that execute at the
// same time as goroutines: an operation at simulated time t by run i goes
// ahead only when no other live run could still make an operation before
// (t, i). It is a conservative discrete-event simulation: a run busy
// delivering is bounded below by its clock when it last touched the store;
// a run not yet started by its start time. One operation runs at a time, in
// an order that depends only on simulated times, so the store sees the
// same sequence of reads and writes on every execution with a seed, while
// deliveries of overlapping runs really run concurrently.
type scheduler struct {
	mu   sync.Mutex
	cond *sync.Cond
	keys map[int]time.Time // live runs: lower bound of their next operation
	// next is the first run not yet launched (index, start).
	nextIdx   int
	nextStart time.Time
	seq       int // operations so far
}

func newScheduler() *scheduler {
	s := &scheduler{keys: map[int]time.Time{}, nextIdx: math.MaxInt}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func before(t time.Time, i int, u time.Time, j int) bool {
	if !t.Equal(u) {
		return t.Before(u)
	}
	return i < j
}

// minKey returns the smallest key among live runs, or ok false.
func (s *scheduler) minKey() (time.Time, int, bool) {
	var bt time.Time
	bi, ok := 0, false
	for i, t := range s.keys {
		if !ok || before(t, i, bt, bi) {
			bt, bi, ok = t, i, true
		}
	}
	return bt, bi, ok
}

// launch registers run i, starting at start, as live.
func (s *scheduler) launch(i int, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[i] = start
	s.cond.Broadcast()
}

// setNext tells the scheduler which run will be launched next.
func (s *scheduler) setNext(i int, start time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextIdx, s.nextStart = i, start
	s.cond.Broadcast()
}

// waitLaunch blocks until run i (starting at start) may be launched: when no
// live run is bounded below by a time more than window before start.
func (s *scheduler) waitLaunch(start time.Time, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		t, _, ok := s.minKey()
		if !ok || !t.Add(window).Before(start) {
			return
		}
		s.cond.Wait()
	}
}

// acquire blocks until run i may make an operation at t, and returns the
// operation's global sequence number. The caller must call release.
func (s *scheduler) acquire(i int, t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[i] = t
	s.cond.Broadcast()
	for {
		_, mi, _ := s.minKey()
		if mi == i && before(t, i, s.nextStart, s.nextIdx) {
			s.seq++
			return s.seq
		}
		s.cond.Wait()
	}
}

// release ends run i's operation; its next one is at t or later.
func (s *scheduler) release(i int, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[i] = t
	s.cond.Broadcast()
}

// done removes run i.
func (s *scheduler) done(i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.keys, i)
	s.cond.Broadcast()
}
