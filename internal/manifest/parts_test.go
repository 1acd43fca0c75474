package manifest

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "90s", want: 90 * time.Second},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "7d", want: 7 * day},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "-5m", want: -5 * time.Minute},
		{in: "30", wantErr: "want a duration with a unit like 30s, 30m, 30h or 30d, got 30"},
		{in: "soon", wantErr: `want a duration like 90s, 15m, 24h or 7d, got "soon"`},
		{in: "d", wantErr: `want a duration like 90s, 15m, 24h or 7d, got "d"`},
		{in: "1d-1h", wantErr: `want a duration like 90s, 15m, 24h or 7d, got "1d-1h"`},
		{in: "", wantErr: `want a duration like 90s, 15m, 24h or 7d, got ""`},
		// Overflowing Go syntax saturates, so the caller's limit applies.
		{in: "9999999999h", want: math.MaxInt64},
		{in: "-9999999999h", want: -math.MaxInt64},
		{in: "1d9999999999h", wantErr: `"1d9999999999h" is too long`},
		{in: "9999999999x", wantErr: `want a duration like 90s, 15m, 24h or 7d, got "9999999999x"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseDuration(tt.in)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
			if got != tt.want {
				t.Errorf("parseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0"}, {30 * time.Second, "30s"}, {24 * time.Hour, "24h"}, {90 * day, "90d"},
		{90 * time.Minute, "1h30m"}, {1500 * time.Millisecond, "1.5s"}, {-time.Minute, "-1m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := formatDuration(tt.in); got != tt.want {
				t.Errorf("formatDuration(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestZoneInOtherCase(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"europe/berlin", "Europe/Berlin"},
		{"EUROPE/BERLIN", "Europe/Berlin"},
		{"america/new_york", "America/New_York"},
		{"america/port-au-prince", "America/Port-au-Prince"},
		{"america/port_of_spain", "America/Port_of_Spain"},
		{"utc", "UTC"},
		{"est5edt", "EST5EDT"},
		{"Europe/Berln", ""},
		{"mars/olympus", ""},
		{"../etc/passwd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := zoneInOtherCase(tt.in); got != tt.want {
				t.Errorf("zoneInOtherCase(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTemplURLProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		allowHTTP bool
		want      string
	}{
		{"https://${HOST}/x", false, ""},
		{"http://${HOST}/x", false, ""},
		{"${URL}", false, ""},
		{"${BASE}/x", false, ""},
		{"https://example.com:${PORT}/x", false, ""},
		{"http://localhost:${PORT}/x", false, ""},
		{"http://example.com/${P}", false, `"http://example.com/${...}" uses plain http; use https, or set allow_http: true (loopback hosts are always allowed)`},
		{"http://example.com/${P}", true, ""},
		{"ftp://${H}/x", false, `"ftp://${...}/x": scheme "ftp" is not supported; use https`},
		{"https://example.com/${bad-name}", false, `want a variable name matching [A-Za-z_][A-Za-z0-9_]*, got "bad-name" in "https://example.com/${bad-name}"`},
		{"http://[::1]:8080/", false, ""},
		{"http://127.255.0.1/", false, ""},
		{"http://[::ffff:127.0.0.1]/", false, ""},
		{"http://128.0.0.1/", false, `"http://128.0.0.1/" uses plain http; use https, or set allow_http: true (loopback hosts are always allowed)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, templURLProblem(tt.in, tt.allowHTTP)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
