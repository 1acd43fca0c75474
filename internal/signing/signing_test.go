package signing

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The example from the Standard Webhooks specification repository (also the
// svix libraries' test vector).
const (
	specKey     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specMsgID   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specUnix    = 1614265330
	specPayload = `{"test": 2432232314}`
	specSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

// A second key for rotation tests (32 bytes).
var otherKey = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

func headers(id string, unix int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(unix, 10))
	h.Set(HeaderSignature, sig)
	return h
}

func TestSignKnownAnswer(t *testing.T) {
	t.Parallel()
	bare := strings.TrimPrefix(specKey, KeyPrefix)
	for _, tc := range []struct {
		name string
		keys []string
		want string
	}{
		{"prefixed key", []string{specKey}, specSig},
		{"bare base64 key", []string{bare}, specSig},
		{"key with trailing newline", []string{specKey + "\n"}, specSig},
		{"rotation keeps key order", []string{otherKey, specKey}, mustSign(t, []string{otherKey}) + " " + specSig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Sign(tc.keys, specMsgID, time.Unix(specUnix, 0), []byte(specPayload))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Sign (-want +got):\n%s", diff)
			}
		})
	}
}

func mustSign(t *testing.T, keys []string) string {
	t.Helper()
	s, err := Sign(keys, specMsgID, time.Unix(specUnix, 0), []byte(specPayload))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(specUnix, 0)
	both := mustSign(t, []string{specKey, otherKey})
	onlyOther := mustSign(t, []string{otherKey})
	for _, tc := range []struct {
		name    string
		keys    []string
		header  http.Header
		body    string
		now     time.Time
		wantErr error
	}{
		{"spec vector", []string{specKey}, headers(specMsgID, specUnix, specSig), specPayload, now, nil},
		{"rotated header, old key", []string{specKey}, headers(specMsgID, specUnix, both), specPayload, now, nil},
		{"rotated header, new key", []string{otherKey}, headers(specMsgID, specUnix, both), specPayload, now, nil},
		{"receiver holds both keys", []string{specKey, otherKey}, headers(specMsgID, specUnix, onlyOther), specPayload, now, nil},
		{"unknown versions ignored", []string{specKey}, headers(specMsgID, specUnix, "v2,abc v1a,xyz "+specSig), specPayload, now, nil},
		{"within tolerance", []string{specKey}, headers(specMsgID, specUnix, specSig), specPayload, now.Add(4 * time.Minute), nil},
		{"tampered body", []string{specKey}, headers(specMsgID, specUnix, specSig), `{"test": 2432232315}`, now, ErrNoMatch},
		{"other message id", []string{specKey}, headers("msg_other", specUnix, specSig), specPayload, now, ErrNoMatch},
		{"wrong key", []string{otherKey}, headers(specMsgID, specUnix, specSig), specPayload, now, ErrNoMatch},
		{"garbage signature", []string{specKey}, headers(specMsgID, specUnix, "v1,!!!"), specPayload, now, ErrNoMatch},
		{"too old", []string{specKey}, headers(specMsgID, specUnix, specSig), specPayload, now.Add(6 * time.Minute), ErrTimestamp},
		{"too new", []string{specKey}, headers(specMsgID, specUnix, specSig), specPayload, now.Add(-6 * time.Minute), ErrTimestamp},
		{"timestamp not a number", []string{specKey}, func() http.Header {
			h := headers(specMsgID, specUnix, specSig)
			h.Set(HeaderTimestamp, "yesterday")
			return h
		}(), specPayload, now, ErrTimestamp},
		{"missing id", []string{specKey}, func() http.Header {
			h := headers(specMsgID, specUnix, specSig)
			h.Del(HeaderID)
			return h
		}(), specPayload, now, ErrMissingHeader},
		{"missing signature", []string{specKey}, func() http.Header {
			h := headers(specMsgID, specUnix, specSig)
			h.Del(HeaderSignature)
			return h
		}(), specPayload, now, ErrMissingHeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(tc.keys, tc.header, []byte(tc.body), tc.now, 0)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify() = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestVerifyCustomTolerance(t *testing.T) {
	t.Parallel()
	h := headers(specMsgID, specUnix, specSig)
	if err := Verify([]string{specKey}, h, []byte(specPayload), time.Unix(specUnix+11, 0), 10*time.Second); !errors.Is(err, ErrTimestamp) {
		t.Errorf("11s late with 10s tolerance: got %v, want ErrTimestamp", err)
	}
	if err := Verify([]string{specKey}, h, []byte(specPayload), time.Unix(specUnix+10, 0), 10*time.Second); err != nil {
		t.Errorf("10s late with 10s tolerance: %v", err)
	}
}

func TestParseKeyErrors(t *testing.T) {
	t.Parallel()
	short := base64.StdEncoding.EncodeToString([]byte("short"))
	for _, tc := range []struct {
		name, key, want string
	}{
		{"empty", "", "signing key is empty"},
		{"blank", "  \n", "signing key is empty"},
		{"prefix only", "whsec_", `signing key after "whsec_" is empty`},
		{"not base64", "whsec_not*base64*at*all*secret!", `signing key after "whsec_" is not valid base64 (bad input at character 4 of 25)`},
		{"bare not base64", "hunter2 hunter2", "signing key is not valid base64 (bad input at character 8 of 15)"},
		{"too short", "whsec_" + short, `signing key after "whsec_": want at least 16 bytes once decoded, got 5 (generate one with: openssl rand -base64 32)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseKey(tc.key)
			if err == nil {
				t.Fatalf("ParseKey(%q) = %x, want error", tc.key, got)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if secret := strings.TrimPrefix(strings.TrimSpace(tc.key), KeyPrefix); len(secret) > 6 && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q leaks the key", err)
			}
		})
	}
}

func TestParseKeyUnpadded(t *testing.T) {
	t.Parallel()
	raw := []byte("0123456789abcdef0") // 17 bytes: base64 needs padding
	padded := base64.StdEncoding.EncodeToString(raw)
	unpadded := strings.TrimRight(padded, "=")
	if padded == unpadded {
		t.Fatal("test key needs padding")
	}
	for _, k := range []string{padded, unpadded, KeyPrefix + unpadded} {
		got, err := ParseKey(k)
		if err != nil {
			t.Fatalf("ParseKey(%q): %v", k, err)
		}
		if diff := cmp.Diff(raw, got); diff != "" {
			t.Errorf("ParseKey(%q) (-want +got):\n%s", k, diff)
		}
	}
}

func TestSignErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		keys  []string
		msgID string
		want  string
	}{
		{"no keys", nil, "m", "signing: no keys"},
		{"empty message id", []string{specKey}, "", "signing: empty message id"},
		{"second key bad", []string{specKey, "whsec_"}, "m", `key 2 of 2: signing key after "whsec_" is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Sign(tc.keys, tc.msgID, time.Unix(0, 0), nil)
			if err == nil {
				t.Fatal("want error")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{specKey, "whsec_", "", "whsec_====", "abc", otherKey, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"} {
		f.Add(s, []byte(specPayload))
	}
	f.Fuzz(func(t *testing.T, key string, body []byte) {
		secret, err := ParseKey(key)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if len(secret) < MinKeyBytes {
			t.Fatalf("ParseKey accepted a %d-byte secret", len(secret))
		}
		now := time.Unix(1700000000, 0)
		sig, err := Sign([]string{key}, "msg", now, body)
		if err != nil {
			t.Fatalf("Sign with accepted key: %v", err)
		}
		if err := Verify([]string{key}, headers("msg", now.Unix(), sig), body, now, 0); err != nil {
			t.Fatalf("Verify(Sign()) = %v", err)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat(`{"k":"v"}`, 100))
	keys := []string{specKey, otherKey}
	for b.Loop() {
		if _, err := Sign(keys, specMsgID, time.Unix(specUnix, 0), body); err != nil {
			b.Fatal(err)
		}
	}
}
