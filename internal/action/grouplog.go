package action

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// GroupLog is the run's log writer in a workflow: it collects the lines
// about each job's deliveries and writes them inside one collapsible
// ::group:: per job, in the order the jobs first appeared.
//
// The engine logs from concurrent deliveries, so lines of different jobs
// interleave. GroupLog holds job lines back until a line about no job
// arrives (such as "waiting 4m for ... (lookahead)", written before the
// engine sleeps) or Flush is called: then the groups so far are written,
// followed by that line. A line belongs to a job when its second word is a
// delivery id (JOB@TIME or JOB#ID) of a job in the manifest, as in
// "claimed daily-emails@2026-11-28T08:00:00Z (attempt 1)".
//
// It is safe for concurrent use.
type GroupLog struct {
	a    *Action
	w    io.Writer
	jobs map[string]bool

	mu      sync.Mutex
	partial []byte
	order   []string
	lines   map[string][]string
	err     error
}

// NewGroupLog returns a GroupLog that writes lines to w and group commands
// through a, which must write to w too, so that the order holds. jobs are
// the manifest's job names.
func NewGroupLog(a *Action, w io.Writer, jobs []string) *GroupLog {
	g := &GroupLog{a: a, w: w, jobs: map[string]bool{}, lines: map[string][]string{}}
	for _, j := range jobs {
		g.jobs[j] = true
	}
	return g
}

// Write implements io.Writer.
func (g *GroupLog) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.partial = append(g.partial, p...)
	for {
		i := bytes.IndexByte(g.partial, '\n')
		if i < 0 {
			break
		}
		line := string(g.partial[:i])
		g.partial = g.partial[i+1:]
		g.line(line)
	}
	if g.err != nil {
		return 0, g.err
	}
	return len(p), nil
}

func (g *GroupLog) line(line string) {
	job := g.jobOf(line)
	if job == "" {
		g.flush()
		g.write(line + "\n")
		return
	}
	if _, ok := g.lines[job]; !ok {
		g.order = append(g.order, job)
	}
	g.lines[job] = append(g.lines[job], line)
}

// jobOf returns the job a log line is about, or "".
func (g *GroupLog) jobOf(line string) string {
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return ""
	}
	id := strings.TrimSuffix(fields[1], ":")
	i := strings.IndexAny(id, "@#")
	if i <= 0 {
		return ""
	}
	if job := id[:i]; g.jobs[job] {
		return job
	}
	return ""
}

// flush writes the groups collected so far. The caller holds g.mu.
func (g *GroupLog) flush() {
	for _, job := range g.order {
		if g.err == nil {
			g.err = g.a.Group("job " + job)
		}
		for _, l := range g.lines[job] {
			g.write(l + "\n")
		}
		if g.err == nil {
			g.err = g.a.EndGroup()
		}
	}
	g.order, g.lines = nil, map[string][]string{}
}

func (g *GroupLog) write(s string) {
	if g.err != nil {
		return
	}
	_, g.err = io.WriteString(g.w, s)
}

// Flush writes every line held back, and a last line without a newline.
func (g *GroupLog) Flush() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.partial) > 0 {
		g.line(string(g.partial))
		g.partial = nil
	}
	g.flush()
	return g.err
}
