package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cronrelay/cronrelay/internal/engine"
	"github.com/cronrelay/cronrelay/internal/state"
	"github.com/cronrelay/cronrelay/internal/state/layout"
)

// gen is one accepted generation of a delayed job: an enqueue, or a
// replace that gave the (job, id) a new due time and body. Bodies carry a
// unique "gen" marker, so deliveries are attributed to generations.
type gen struct {
	key, marker string
	due         time.Time
	acceptSeq   int
	acceptAt    time.Time
	superseded  bool
	cancelled   bool
	dead        bool
	gone        bool // left the open set without dying or being cancelled
	goneBy      string
}

type deadEvent struct {
	id, job, kind, reason string
	deadAt                time.Time
	attempts              int
	seq                   int
}

type claimEvent struct {
	run      string
	at       time.Time
	attempts int
	seq      int
}

type advance struct {
	c0, c1, at time.Time
}

// observer sees every document committed to the state branch, in order
// (operations are serialised by the scheduler), checks what must hold of
// each, and keeps the ledger that the final checks use.
type observer struct {
	s *Sim

	mu       sync.Mutex
	head     string // with Layout2: the head whose state is headData
	headData []byte
	last     []byte
	lastDoc  *state.Doc
	commits  int
	sizes    []int
	digest   []byte
	gens     map[string]*gen
	cur      map[string]string // key -> current marker
	dead     []deadEvent
	claims   map[string][]claimEvent
	removals map[string][]int // key -> op seqs at which it left the open set
	first    map[string]time.Time
	advances map[string][]advance
	maxOpen  int
}

func newObserver(s *Sim) *observer {
	return &observer{s: s, gens: map[string]*gen{}, cur: map[string]string{}, claims: map[string][]claimEvent{},
		removals: map[string][]int{}, first: map[string]time.Time{}, advances: map[string][]advance{}}
}

func marker(body json.RawMessage) string {
	var b struct {
		Gen string `json:"gen"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Gen
}

// stateData is the state on the branch as one document: state.json, or
// with Layout2 every file of the layout joined (once per head). Called
// with o.mu held.
func (o *observer) stateData(r *runState) ([]byte, bool) {
	if !o.s.cfg.Layout2 {
		return o.s.fake.File(stateBranch, "state.json")
	}
	head := o.s.fake.Head(stateBranch)
	if head == "" {
		return nil, false
	}
	if head == o.head {
		return o.headData, true
	}
	files := layout.Files{}
	for _, p := range o.s.fake.Paths(stateBranch) {
		if layout.Owns(p) {
			b, _ := o.s.fake.File(stateBranch, p)
			files[p] = b
		}
	}
	doc, err := layout.Join("sim", files)
	var data []byte
	if err == nil {
		data, err = doc.Encode()
	}
	if err != nil {
		o.s.violate("state-parses", r.name(), "", "%v", err)
		return nil, false
	}
	o.head, o.headData = head, data
	return data, true
}

// observe looks at the branch after operation seq by run r.
func (o *observer) observe(seq int, r *runState) {
	o.mu.Lock()
	defer o.mu.Unlock()
	data, ok := o.stateData(r)
	if !ok {
		return
	}
	if bytes.Equal(data, o.last) {
		return
	}
	who := r.name()
	doc, err := o.s.docs.decode(data)
	if err != nil {
		o.s.violate("state-parses", who, "", "%v", err)
		return
	}
	o.commits++
	o.sizes = append(o.sizes, len(data))
	sum := sha256.Sum256(data)
	h := sha256.Sum256(append(append(o.digest, sum[:]...), byte(seq)))
	o.digest = h[:]
	o.maxOpen = max(o.maxOpen, len(doc.Open))

	prev := o.lastDoc
	if prev == nil {
		prev = state.New()
	}
	o.s.checkWrite(who, prev, doc)
	newlyDead := o.newDead(prev, doc, seq)
	o.removed(prev, doc, seq, who, newlyDead, cancelledIn(prev, doc))
	o.newGensAndClaims(prev, doc, seq, who)
	o.cursors(prev, doc)
	o.last, o.lastDoc = data, doc
}

// newDead records the dead letters doc adds to prev (written in operation
// seq) and returns their ids.
func (o *observer) newDead(prev, doc *state.Doc, seq int) map[string]bool {
	seen := map[string]bool{}
	for _, dl := range prev.Dead {
		seen[dl.ID+"|"+dl.DeadAt.String()] = true
	}
	newlyDead := map[string]bool{}
	for _, dl := range doc.Dead {
		if seen[dl.ID+"|"+dl.DeadAt.String()] {
			continue
		}
		newlyDead[dl.ID] = true
		o.dead = append(o.dead, deadEvent{id: dl.ID, job: dl.Job, kind: dl.Kind, reason: dl.Reason, deadAt: dl.DeadAt, attempts: dl.Attempts, seq: seq})
		if dl.Kind == state.KindDelayed {
			if g := o.gens[marker(dl.Body)]; g != nil {
				g.dead = true
			}
		}
	}
	return newlyDead
}

// cancelledIn returns the ids doc's histories cancel that prev's did not.
func cancelledIn(prev, doc *state.Doc) map[string]bool {
	cancelled := map[string]bool{}
	for name, j := range doc.Jobs {
		had := map[string]bool{}
		if pj := prev.Jobs[name]; pj != nil {
			for _, e := range pj.History {
				had[e.ID+"|"+e.At.String()] = true
			}
		}
		for _, e := range j.History {
			if e.Outcome == string(engine.NoteCancelled) && !had[e.ID+"|"+e.At.String()] {
				cancelled[e.ID] = true
			}
		}
	}
	return cancelled
}

// removed records the deliveries that left the open set in operation seq
// by who, and what became of their generation.
func (o *observer) removed(prev, doc *state.Doc, seq int, who string, newlyDead, cancelled map[string]bool) {
	for id, old := range prev.Open {
		if nd, ok := doc.Open[id]; ok && (old.Kind != state.KindDelayed || marker(nd.Body) == marker(old.Body)) {
			continue
		}
		o.removals[id] = append(o.removals[id], seq)
		if old.Kind != state.KindDelayed {
			continue
		}
		g := o.gens[marker(old.Body)]
		if g == nil {
			continue
		}
		if _, still := doc.Open[id]; still {
			g.superseded = true
			continue
		}
		switch {
		case newlyDead[id]:
		case cancelled[id]:
			g.cancelled = true
		default:
			g.gone = true
			var evs []string
			if j := doc.Jobs[old.Job]; j != nil {
				for _, e := range j.History {
					if e.ID == id {
						evs = append(evs, fmt.Sprintf("%s at %s", e.Outcome, e.At.Format(time.RFC3339Nano)))
					}
				}
			}
			g.goneBy = fmt.Sprintf("left the open set in op %d by %s (claim %+v, attempts %d; history: %v; recent: %v; prev updated %s)", seq, who, old.Claim, old.Attempts, evs, doc.Recent[id].Format(time.RFC3339Nano), prev.UpdatedAt.Format(time.RFC3339Nano))
		}
	}
}

// newGensAndClaims records the delayed generations doc accepts and the
// claims it takes, in operation seq by who.
func (o *observer) newGensAndClaims(prev, doc *state.Doc, seq int, who string) {
	for id, dl := range doc.Open {
		old := prev.Open[id]
		if dl.Kind == state.KindDelayed && !strings.Contains(id, "#seed-") { // seeded: see seeded-kept
			m := marker(dl.Body)
			switch {
			case m == "":
				o.s.violate("harness", who, id, "delayed delivery without a generation marker")
			case strings.HasPrefix(m, "bad"):
				o.s.violate("refused-item", who, id, "a refused item reached the state")
			case o.gens[m] == nil:
				o.gens[m] = &gen{key: id, marker: m, due: dl.Due, acceptSeq: seq, acceptAt: doc.UpdatedAt}
				if c, ok := o.cur[id]; ok && c != m {
					if g := o.gens[c]; g != nil && !g.gone && !g.dead && !g.cancelled {
						g.superseded = true
					}
				}
				o.cur[id] = m
			}
		}
		if dl.Claim != nil && (old == nil || old.Claim == nil || *old.Claim != *dl.Claim) {
			o.claims[id] = append(o.claims[id], claimEvent{run: dl.Claim.Run, at: doc.LastRun, attempts: dl.Attempts, seq: seq})
		}
	}
}

// cursors remembers each job's first cursor (when its occurrences started
// to count) and each advance of it.
func (o *observer) cursors(prev, doc *state.Doc) {
	for name, j := range doc.Jobs {
		if j.Cursor.IsZero() {
			continue
		}
		var c0 time.Time
		if pj := prev.Jobs[name]; pj != nil {
			c0 = pj.Cursor
		}
		switch {
		case c0.IsZero():
			if _, ok := o.first[name]; !ok {
				o.first[name] = j.Cursor
			}
		case j.Cursor.After(c0): // going back is cursor-monotonic's violation
			o.advances[name] = append(o.advances[name], advance{c0: c0, c1: j.Cursor, at: doc.LastRun})
		}
	}
}

// checkClaimWrite: after a run's claim write, nothing due and free is left
// unclaimed (the first run at or after a due time takes it).
func (o *observer) checkClaimWrite(r *runState, data []byte, _ time.Time) {
	doc, err := o.s.docs.decode(data)
	if err != nil {
		return
	}
	left := eligible(o.s.manifest, doc, doc.LastRun)
	if len(left) > 0 && len(r.claimed) < engine.MaxClaims {
		o.s.violate("claims-all-due", r.name(), left[0], "%d deliveries due at %s left unclaimed by the claim write: %v", len(left), doc.LastRun.Format(time.RFC3339), left)
	}
}

// seenAt is when the run whose cursor passed occurrence t decided on it.
func (o *observer) seenAt(job string, t time.Time) (time.Time, bool) {
	for _, a := range o.advances[job] {
		if t.After(a.c0) && !t.After(a.c1) {
			return a.at, true
		}
	}
	return time.Time{}, false
}

func (g *gen) String() string {
	return fmt.Sprintf("%s gen %s due %s", g.key, g.marker, g.due.Format(time.RFC3339))
}
