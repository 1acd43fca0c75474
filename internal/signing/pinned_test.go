package signing

// Tests that pin boundaries mutation testing found unpinned (issue 14).

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseKeyAcceptsExactlyMinimumLength(t *testing.T) {
	t.Parallel()
	for _, n := range []int{MinKeyBytes, MinKeyBytes + 1} {
		raw := strings.Repeat("k", n)
		b, err := ParseKey(KeyPrefix + base64.StdEncoding.EncodeToString([]byte(raw)))
		if err != nil || string(b) != raw {
			t.Errorf("%d-byte key: %q, %v; want it accepted", n, b, err)
		}
	}
	_, err := ParseKey(KeyPrefix + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", MinKeyBytes-1))))
	if err == nil || !strings.Contains(err.Error(), "want at least 16 bytes once decoded, got 15") {
		t.Errorf("15-byte key: %v; want too short", err)
	}
}

func TestVerifyTimestampExactlyAtTolerance(t *testing.T) {
	t.Parallel()
	h := headers(specMsgID, specUnix, specSig)
	tests := []struct {
		name      string
		offset    time.Duration // now minus the timestamp
		tolerance time.Duration
		ok        bool
	}{
		{"late exactly at tolerance", 10 * time.Second, 10 * time.Second, true},
		{"early exactly at tolerance", -10 * time.Second, 10 * time.Second, true},
		{"early past tolerance", -11 * time.Second, 10 * time.Second, false},
		{"default tolerance, late at 5m", DefaultTolerance, 0, true},
		{"default tolerance, early at 5m", -DefaultTolerance, 0, true},
		{"default tolerance, late past 5m", DefaultTolerance + time.Second, 0, false},
		{"default tolerance, early past 5m", -DefaultTolerance - time.Second, -time.Second, false},
	}
	for _, tt := range tests {
		now := time.Unix(specUnix, 0).Add(tt.offset)
		err := Verify([]string{specKey}, h, []byte(specPayload), now, tt.tolerance)
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrTimestamp) {
			t.Errorf("%s: got %v, want ErrTimestamp", tt.name, err)
		}
	}
	if DefaultTolerance != 5*time.Minute {
		t.Errorf("DefaultTolerance = %v; the reference libraries use 5m", DefaultTolerance)
	}
}

func TestSingleBadKeyErrorDoesNotCountKeys(t *testing.T) {
	t.Parallel()
	_, err := Sign([]string{"whsec_"}, specMsgID, time.Unix(specUnix, 0), nil)
	if err == nil || strings.Contains(err.Error(), "of 1") {
		t.Errorf("one bad key: %v; want an error without \"key 1 of 1\"", err)
	}
	_, err = Sign([]string{specKey, "whsec_"}, specMsgID, time.Unix(specUnix, 0), nil)
	if err == nil || !strings.HasPrefix(err.Error(), "key 2 of 2: ") {
		t.Errorf("second of two keys bad: %v; want it to say \"key 2 of 2\"", err)
	}
}
