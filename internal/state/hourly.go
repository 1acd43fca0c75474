package state

import (
	"sort"
	"strconv"
	"time"
)

// HourlyFor is how long the per-hour aggregates are kept: the status page's
// seven-day charts and success rates are drawn from them.
const HourlyFor = 7 * 24 * time.Hour

// LatencyBounds are the upper bounds of the fixed latency buckets of the
// aggregates (how long after its due time a delivery finished); the last
// bucket has no bound. Counts per bucket are exact, so a quantile is exact
// to the bucket: it is reported as the bucket's upper bound.
var LatencyBounds = []time.Duration{
	time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 24 * time.Hour,
}

// Hour aggregates the finished deliveries of one job in one UTC hour (the
// hour of their At): counts by outcome and, for delivered and dead ones,
// counts per latency bucket. Unlike the history, which keeps the last
// MaxHistory events of a job, the aggregates cover HourlyFor whatever the
// schedule: a */5 job has 2,016 deliveries in seven days.
type Hour struct {
	Job      string         `json:"job"`
	Hour     time.Time      `json:"hour"`
	Outcomes map[string]int `json:"outcomes"`
	// Retried counts the delivered ones that needed more than one attempt.
	Retried int `json:"retried,omitempty"`
	// Latency[i] counts deliveries with latency at most LatencyBounds[i]
	// (and above the bound before it); the last entry counts the rest.
	// Trailing zero buckets are left out.
	Latency []int `json:"latency,omitempty"`
}

// Count returns the number of events aggregated.
func (h *Hour) Count() int {
	n := 0
	for _, c := range h.Outcomes {
		n += c
	}
	return n
}

// Quantile returns the upper bound of the latency bucket that holds the
// q-th quantile (0 < q <= 1) of the latencies, and false when there are
// none or it is in the last, unbounded bucket.
func Quantile(latency []int, q float64) (time.Duration, bool) {
	total := 0
	for _, c := range latency {
		total += c
	}
	if total == 0 {
		return 0, false
	}
	rank := int(q*float64(total) + 0.999999)
	rank = max(rank, 1)
	seen := 0
	for i, c := range latency {
		seen += c
		if seen >= rank {
			if i < len(LatencyBounds) {
				return LatencyBounds[i], true
			}
			return 0, false
		}
	}
	return 0, false
}

func latencyBucket(d time.Duration) int {
	for i, b := range LatencyBounds {
		if d <= b {
			return i
		}
	}
	return len(LatencyBounds)
}

// aggregate counts e in the aggregates and forgets hours older than
// HourlyFor before e.At.
func (d *Doc) aggregate(job string, e Event) {
	hour := e.At.UTC().Truncate(time.Hour)
	n := max(e.Count, 1)
	i := sort.Search(len(d.Hourly), func(i int) bool {
		h := d.Hourly[i]
		if !h.Hour.Equal(hour) {
			return !h.Hour.Before(hour)
		}
		return h.Job >= job
	})
	if i == len(d.Hourly) || d.Hourly[i].Job != job || !d.Hourly[i].Hour.Equal(hour) {
		d.Hourly = append(d.Hourly, Hour{})
		copy(d.Hourly[i+1:], d.Hourly[i:])
		d.Hourly[i] = Hour{Job: job, Hour: hour, Outcomes: map[string]int{}}
	}
	h := &d.Hourly[i]
	h.Outcomes[e.Outcome] += n
	if e.Outcome == OutcomeDelivered && e.Attempts > 1 {
		h.Retried++
	}
	if e.Outcome == OutcomeDelivered || e.Outcome == OutcomeDead {
		b := latencyBucket(e.At.Sub(e.Due))
		if len(h.Latency) <= b {
			h.Latency = append(h.Latency, make([]int, b+1-len(h.Latency))...)
		}
		h.Latency[b]++
	}
	cut := hour.Add(-HourlyFor)
	k := 0
	for k < len(d.Hourly) && !d.Hourly[k].Hour.After(cut) {
		k++
	}
	if k > 0 {
		d.Hourly = append([]Hour(nil), d.Hourly[k:]...)
	}
}

func cloneHourly(hs []Hour) []Hour {
	if hs == nil {
		return nil
	}
	out := make([]Hour, len(hs))
	for i, h := range hs {
		c := h
		c.Outcomes = make(map[string]int, len(h.Outcomes))
		for k, v := range h.Outcomes {
			c.Outcomes[k] = v
		}
		c.Latency = append([]int(nil), h.Latency...)
		out[i] = c
	}
	return out
}

// hourly writes the aggregates one compact object a line, in their order
// (by hour, then job).
func (w *writer) hourly(hs []Hour) {
	w.open('[')
	for _, h := range hs {
		w.item()
		w.buf = append(w.buf, `{"job": `...)
		w.str(h.Job)
		w.buf = append(w.buf, `, "hour": `...)
		w.time(h.Hour)
		w.buf = append(w.buf, `, "outcomes": {`...)
		for i, k := range sortedKeys(h.Outcomes) {
			if i > 0 {
				w.buf = append(w.buf, ", "...)
			}
			w.str(k)
			w.buf = append(w.buf, ": "...)
			w.buf = strconv.AppendInt(w.buf, int64(h.Outcomes[k]), 10)
		}
		w.buf = append(w.buf, '}')
		if h.Retried > 0 {
			w.buf = append(w.buf, `, "retried": `...)
			w.buf = strconv.AppendInt(w.buf, int64(h.Retried), 10)
		}
		if len(h.Latency) > 0 {
			w.buf = append(w.buf, `, "latency": [`...)
			for i, c := range h.Latency {
				if i > 0 {
					w.buf = append(w.buf, ", "...)
				}
				w.buf = strconv.AppendInt(w.buf, int64(c), 10)
			}
			w.buf = append(w.buf, ']')
		}
		w.buf = append(w.buf, '}')
	}
	w.close(']')
}

// SortHourly puts aggregates read from a document or its files in the order aggregate
// keeps them (by hour, then job), whatever order a hand edit left.
func SortHourly(hs []Hour) {
	sort.SliceStable(hs, func(a, b int) bool {
		if !hs[a].Hour.Equal(hs[b].Hour) {
			return hs[a].Hour.Before(hs[b].Hour)
		}
		return hs[a].Job < hs[b].Job
	})
	for i := range hs {
		if hs[i].Outcomes == nil {
			hs[i].Outcomes = map[string]int{}
		}
	}
}
