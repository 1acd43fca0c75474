package manifest

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/diag"
)

const day = 24 * time.Hour

// durationWant is what a duration must look like, in messages.
const durationWant = "a duration like 90s, 15m, 24h or 7d"

// parseDuration parses Go duration syntax ("90s", "1h30m") extended with a
// leading days component ("7d", "1d12h"). A bare "0" is zero; any other
// bare number is an error because its unit would be a guess. A duration
// too large for time.Duration saturates rather than failing, so that the
// caller's limit check reports it as too long: it is a duration, only a
// long one.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New(diag.Want(durationWant, `""`))
	}
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if _, err := strconv.ParseFloat(body, 64); err == nil {
		if f, _ := strconv.ParseFloat(body, 64); f == 0 {
			return 0, nil
		}
		return 0, errors.New(diag.Want(fmt.Sprintf("a duration with a unit like %ss, %sm, %sh or %sd", s, s, s, s), s))
	}
	var d time.Duration
	if i := strings.IndexByte(body, 'd'); i >= 0 {
		n, err := strconv.ParseFloat(body[:i], 64)
		if err != nil || body[:i] == "" || strings.ContainsAny(body[:i], "eEinfINFxX") {
			return 0, errors.New(diag.Want(durationWant, strconv.Quote(s)))
		}
		if n > 100000 {
			return 0, fmt.Errorf("%q is too long", s)
		}
		d = time.Duration(n * float64(day))
		body = body[i+1:]
	}
	if body != "" {
		rest, err := time.ParseDuration(body)
		if err != nil && goDurationRE.MatchString(body) {
			// Well formed, so time.ParseDuration failed on overflow.
			rest, err = math.MaxInt64, nil
		}
		if err != nil || rest < 0 || body[0] == '-' || body[0] == '+' {
			return 0, errors.New(diag.Want(durationWant, strconv.Quote(s)))
		}
		if d > 0 && rest > time.Duration(1<<63-1)-d {
			return 0, fmt.Errorf("%q is too long", s)
		}
		d += rest
	}
	if neg {
		d = -d
	}
	return d, nil
}

// goDurationRE is the syntax time.ParseDuration accepts, without a sign.
var goDurationRE = regexp.MustCompile(`^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

// formatDuration writes d in the shortest form parseDuration reads back:
// "30s", "24h", "7d", "1h30m".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	if d%day == 0 && d >= 7*day {
		fmt.Fprintf(&b, "%dd", d/day)
		return b.String()
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	return b.String()
}
