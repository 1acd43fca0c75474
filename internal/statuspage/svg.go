package statuspage

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/state"
)

// Chart geometry, in SVG user units.
const (
	chartW  = 720.0
	chartH  = 260.0
	marginL = 52.0
	marginR = 16.0
	marginT = 34.0
	marginB = 38.0
	plotW   = chartW - marginL - marginR
	plotH   = chartH - marginT - marginB
)

// Colours, readable on GitHub's light and dark themes alike.
const (
	colAxis      = "#8b949e"
	colText      = "#57606a"
	colRun       = "#0969da"
	colMedian    = "#bf8700"
	colMissed    = "#cf222e"
	colDelivered = "#2da44e"
	colRetried   = "#d4a72c"
	colDead      = "#cf222e"
)

// svg builds a chart; every number goes through f so output is stable.
type svg struct {
	b strings.Builder
}

func f(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	if s == "-0.0" {
		s = "0.0"
	}
	return strings.TrimSuffix(s, ".0")
}

func (s *svg) open(title string) {
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" role="img" aria-label="%s" font-family="-apple-system,BlinkMacSystemFont,Segoe UI,Helvetica,Arial,sans-serif" font-size="11">`+"\n",
		f(chartW), f(chartH), f(chartW), f(chartH), html.EscapeString(title))
	fmt.Fprintf(&s.b, "<title>%s</title>\n", html.EscapeString(title))
	fmt.Fprintf(&s.b, `<rect width="%s" height="%s" fill="#ffffff"/>`+"\n", f(chartW), f(chartH))
}

func (s *svg) close() []byte {
	s.b.WriteString("</svg>\n")
	return []byte(s.b.String())
}

func (s *svg) text(x, y float64, anchor, fill, text string) {
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" text-anchor="%s" fill="%s">%s</text>`+"\n", f(x), f(y), anchor, fill, html.EscapeString(text))
}

func (s *svg) line(x1, y1, x2, y2 float64, stroke string, extra string) {
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"%s/>`+"\n", f(x1), f(y1), f(x2), f(y2), stroke, extra)
}

func (s *svg) rect(x, y, w, h float64, fill string) {
	fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", f(x), f(y), f(w), f(h), fill)
}

// niceMax rounds v up to 1, 2 or 5 times a power of ten, at least min.
func niceMax(v, min float64) float64 {
	if v <= min {
		return min
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// frame draws the axes, day lines and labels, and the y grid for ymax.
func (p *page) frame(s *svg, ymax float64, ylabel string) {
	x0, y0 := marginL, marginT+plotH
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		y := y0 - plotH*float64(i)/4
		s.line(x0, y, x0+plotW, y, colAxis, ` stroke-opacity="0.3"`)
		s.text(x0-6, y+4, "end", colText, f(v))
	}
	day := p.start.Truncate(24 * time.Hour)
	if day.Before(p.start) {
		day = day.Add(24 * time.Hour)
	}
	for ; !day.After(p.end); day = day.Add(24 * time.Hour) {
		x := p.x(day)
		s.line(x, marginT, x, y0, colAxis, ` stroke-opacity="0.3"`)
		s.text(x, y0+16, "middle", colText, day.Format("Jan 2"))
	}
	s.line(x0, y0, x0+plotW, y0, colAxis, "")
	s.line(x0, marginT, x0, y0, colAxis, "")
	fmt.Fprintf(&s.b, `<text x="14" y="%s" text-anchor="middle" fill="%s" transform="rotate(-90 14 %s)">%s</text>`+"\n",
		f(marginT+plotH/2), colText, f(marginT+plotH/2), html.EscapeString(ylabel))
	s.text(x0+plotW, y0+32, "end", colText, "UTC, 7 days to "+p.end.Format("2006-01-02 15:04"))
}

// x maps a time in the window to the plot.
func (p *page) x(t time.Time) float64 {
	return marginL + plotW*float64(t.Sub(p.start))/float64(p.end.Sub(p.start))
}

// latenessSVG plots minutes late per scheduled run against its tick, with
// the median as a dashed line and a mark under each run that came after
// ticks that never ran.
func (p *page) latenessSVG() ([]byte, error) {
	samples := p.samples()
	s := &svg{}
	s.open("GitHub's start lateness per scheduled run, last 7 days")
	var lates []time.Duration
	for _, x := range samples {
		lates = append(lates, x.Late)
	}
	ymax := 5.0
	if len(lates) > 0 {
		ymax = niceMax(maxDur(lates).Minutes(), 5)
	}
	p.frame(s, ymax, "minutes late")
	y := func(d time.Duration) float64 {
		return marginT + plotH - plotH*math.Min(d.Minutes(), ymax)/ymax
	}
	if len(samples) == 0 {
		s.text(marginL+plotW/2, marginT+plotH/2, "middle", colText, "no scheduled runs recorded in the last 7 days")
	}
	missed := 0
	for i, x := range samples {
		fmt.Fprintf(&s.b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"><title>tick %s, started %s late</title></circle>`+"\n",
			f(p.x(x.Tick)), f(y(x.Late)), colRun, x.Tick.UTC().Format("Jan 2 15:04"), html.EscapeString(shortDur(x.Late)))
		if i > 0 && x.Missed > 0 {
			missed += x.Missed
			cx, cy := p.x(x.Tick), marginT+plotH
			fmt.Fprintf(&s.b, `<path d="M%s %sl-3.5 6h7z" fill="%s"><title>%d tick(s) before this one never ran</title></path>`+"\n",
				f(cx), f(cy-6), colMissed, x.Missed)
		}
	}
	if len(lates) > 0 {
		med := median(lates)
		s.line(marginL, y(med), marginL+plotW, y(med), colMedian, ` stroke-width="1.5" stroke-dasharray="6 4"`)
	}
	// Legend.
	lx := marginL
	fmt.Fprintf(&s.b, `<circle cx="%s" cy="16" r="3" fill="%s"/>`+"\n", f(lx+4), colRun)
	s.text(lx+12, 20, "start", colText, fmt.Sprintf("run (%d)", len(samples)))
	lx += 90
	s.line(lx, 16, lx+22, 16, colMedian, ` stroke-width="1.5" stroke-dasharray="6 4"`)
	med := "median"
	if len(lates) > 0 {
		med = "median " + shortDur(median(lates))
	}
	s.text(lx+28, 20, "start", colText, med)
	lx += 150
	fmt.Fprintf(&s.b, `<path d="M%s 11l-3.5 6h7z" fill="%s"/>`+"\n", f(lx+4), colMissed)
	s.text(lx+12, 20, "start", colText, fmt.Sprintf("ticks that never ran (%d)", missed))
	return s.close(), nil
}

// shortDur is "23 min", "4 h 46 min".
func shortDur(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 60 {
		return fmt.Sprintf("%d min", m)
	}
	if m%60 == 0 {
		return fmt.Sprintf("%d h", m/60)
	}
	return fmt.Sprintf("%d h %d min", m/60, m%60)
}

// windowHours is the number of bars of the deliveries chart.
const windowHours = int(Window / time.Hour)

// deliveriesSVG stacks, per hour, deliveries that succeeded at the first
// attempt, those that succeeded after retries, and dead letters (see
// deliveryBins).
func (p *page) deliveriesSVG() ([]byte, error) {
	const hours = windowHours
	bins, total := p.deliveryBins()
	peak := 0
	for _, b := range bins {
		peak = max(peak, b[0]+b[1]+b[2])
	}
	ymax := niceMax(float64(peak), 4)
	s := &svg{}
	s.open("Deliveries per hour by outcome, last 7 days")
	p.frame(s, ymax, "deliveries per hour")
	colours := [3]string{colDelivered, colRetried, colDead}
	bw := plotW / float64(hours)
	for h, b := range bins {
		base := marginT + plotH
		for k := 0; k < 3; k++ {
			if b[k] == 0 {
				continue
			}
			hgt := plotH * float64(b[k]) / ymax
			s.rect(marginL+bw*float64(h)+0.3, base-hgt, math.Max(bw-0.6, 0.5), hgt, colours[k])
			base -= hgt
		}
	}
	if peak == 0 {
		s.text(marginL+plotW/2, marginT+plotH/2, "middle", colText, "no deliveries in the last 7 days")
	}
	labels := [3]string{"delivered", "after retries", "dead"}
	lx := marginL
	for k := 0; k < 3; k++ {
		s.rect(lx, 10, 10, 10, colours[k])
		label := fmt.Sprintf("%s (%d)", labels[k], total[k])
		s.text(lx+14, 19, "start", colText, label)
		lx += 24 + float64(len(label))*6
	}
	return s.close(), nil
}

// deliveryBins counts the window's deliveries per hour and outcome
// (delivered at the first attempt, after retries, dead), and the totals,
// from the state's hourly aggregates (every delivery of the window), or
// from the history (the last 20 of each job) for a state written before
// them.
func (p *page) deliveryBins() (bins [windowHours][3]int, total [3]int) {
	const hours = windowHours
	names := make([]string, 0, len(p.in.State.Jobs))
	for name := range p.in.State.Jobs {
		names = append(names, name)
	}
	sort.Strings(names)
	if hs := p.in.State.Hourly; len(hs) > 0 {
		// The aggregates count every delivery of the window.
		for _, a := range hs {
			if a.Hour.Before(p.start) || !a.Hour.Before(p.end) {
				continue
			}
			h := int(a.Hour.Sub(p.start) / time.Hour)
			counts := [3]int{a.Outcomes[state.OutcomeDelivered] - a.Retried, a.Retried, a.Outcomes[state.OutcomeDead]}
			for k, c := range counts {
				bins[h][k] += c
				total[k] += c
			}
		}
		names = nil
	}
	for _, name := range names {
		for _, e := range p.in.State.Jobs[name].History {
			if !e.At.After(p.start) || e.At.After(p.end) {
				continue
			}
			k := -1
			switch {
			case e.Outcome == state.OutcomeDelivered && e.Attempts > 1:
				k = 1
			case e.Outcome == state.OutcomeDelivered:
				k = 0
			case e.Outcome == state.OutcomeDead:
				k = 2
			}
			if k < 0 {
				continue
			}
			h := int(e.At.Sub(p.start) / time.Hour)
			if e.At.Sub(p.start)%time.Hour == 0 {
				h-- // (start, end]: an event on the hour belongs to the hour before
			}
			h = min(max(h, 0), hours-1)
			bins[h][k]++
			total[k]++
		}
	}
	return bins, total
}
