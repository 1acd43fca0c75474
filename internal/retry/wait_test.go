package retry_test

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cronrelay/cronrelay/internal/retry"
)

// start is the time the Retry-After dates are read at.
var start = time.Date(2026, 11, 28, 8, 0, 30, 0, time.UTC)

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	almostOne := func() float64 { return 0.9999999999 }
	for _, tc := range []struct {
		name            string
		base, max, want time.Duration
		i               int
	}{
		{"first", time.Second, 30 * time.Second, time.Second, 0},
		{"doubles", time.Second, 30 * time.Second, 16 * time.Second, 4},
		{"capped", time.Second, 30 * time.Second, 30 * time.Second, 10},
		{"no cap, huge attempt index", time.Hour, 0, retry.Forever, 1000},
		{"zero base", 0, time.Minute, 0, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := retry.Policy{Backoff: tc.base, MaxBackoff: tc.max, Jitter: almostOne}.Wait(tc.i)
			if got < 0 || (tc.want > 0 && got >= tc.want) || (tc.want > 0 && got < tc.want-tc.want/1000) {
				t.Errorf("Wait(%s, %s, %d) = %s, want just under %s", tc.base, tc.max, tc.i, got, tc.want)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{" 120 ", 2 * time.Minute, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"99999999999999999999999", retry.Forever, true},
		{"9223372036", retry.Forever, true},
		{start.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"Saturday, 28-Nov-26 08:02:00 GMT", 90 * time.Second, true},
		{"Sat Nov 28 08:02:00 2026", 90 * time.Second, true},
		{"Fri, 31 Dec 9999 23:59:59 GMT", retry.Forever, true},
		{"tomorrow", 0, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := retry.ParseRetryAfter(tc.in, start)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "Sat, 28 Nov 2026 08:02:00 GMT", "Sat Nov 28 08:02:00 2026", "1e9", "18446744073709551616"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := retry.ParseRetryAfter(s, start)
		if got < 0 || got > retry.Forever {
			t.Fatalf("ParseRetryAfter(%q) = %s, outside [0, %s]", s, got, retry.Forever)
		}
		if !ok && got != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %s with ok false", s, got)
		}
		if secs, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32); err == nil && (!ok || got != min(time.Duration(secs)*time.Second, retry.Forever)) {
			t.Fatalf("ParseRetryAfter(%q) = %s, %v; want %ds (at most %s)", s, got, ok, secs, retry.Forever)
		}
	})
}

func TestParseRetryAfterAtMaximumWait(t *testing.T) {
	t.Parallel()
	maxSecs := int64(retry.Forever / time.Second)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{strconv.FormatInt(maxSecs-1, 10), retry.Forever - time.Second},
		{strconv.FormatInt(maxSecs, 10), retry.Forever},
		{strconv.FormatInt(maxSecs+1, 10), retry.Forever},
		{"9", 9 * time.Second},
	} {
		got, ok := retry.ParseRetryAfter(tc.in, start)
		if !ok || got != tc.want {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
	for _, in := range []string{"/5", ":5", "a"} {
		if got, ok := retry.ParseRetryAfter(in, start); ok {
			t.Errorf("ParseRetryAfter(%q) = %v, true; want not ok", in, got)
		}
	}
}

func TestBackoffExactValues(t *testing.T) {
	t.Parallel()
	r := func(f float64) func() float64 { return func() float64 { return f } }
	tests := []struct {
		base, max time.Duration
		i         int
		rnd       float64
		want      time.Duration
	}{
		{time.Second, 30 * time.Second, 0, 0.5, 500 * time.Millisecond},
		{time.Second, 30 * time.Second, 1, 0.5, time.Second},
		{time.Second, 4 * time.Second, 2, 0.5, 2 * time.Second},
		{time.Second, 4 * time.Second, 3, 0.5, 2 * time.Second},
		{time.Second, 30 * time.Second, 5, 0.5, 15 * time.Second},
		{time.Second, 30 * time.Second, 1, 1.0, 2*time.Second - 1},
		{time.Second, 30 * time.Second, 1, -0.5, 0},
		{time.Second, 30 * time.Second, 1, math.NaN(), 0},
		{time.Second, 0, 3, 0.5, 4 * time.Second},
		{time.Second, -time.Second, 3, 0.5, 4 * time.Second},
		{0, time.Minute, 3, 0.5, 0},
	}
	for _, tt := range tests {
		if got := (retry.Policy{Backoff: tt.base, MaxBackoff: tt.max, Jitter: r(tt.rnd)}).Wait(tt.i); got != tt.want {
			t.Errorf("Wait(%v, %v, %d, %v) = %v, want %v", tt.base, tt.max, tt.i, tt.rnd, got, tt.want)
		}
	}
}
