// Package signing signs and verifies webhook requests per the Standard
// Webhooks specification (https://www.standardwebhooks.com/), the scheme
// svix uses too, so receivers can check cronrelay's requests with the
// standardwebhooks or svix libraries.
//
// The signed content is msgID + "." + unix seconds + "." + body, signed with
// HMAC-SHA256 and sent base64 (standard encoding) as "v1,SIGNATURE" in the
// webhook-signature header. Several keys may be given for rotation: the
// header then carries one space-separated entry per key.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cronrelay/cronrelay/internal/diag"
)

// Header names defined by the Standard Webhooks specification.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// KeyPrefix is the conventional prefix of a Standard Webhooks secret.
const KeyPrefix = "whsec_"

// MinKeyBytes is the shortest secret accepted, after base64 decoding. The
// specification recommends 24 to 64 bytes; shorter secrets are too easy to
// guess.
const MinKeyBytes = 16

// DefaultTolerance is the clock skew Verify accepts when given no tolerance,
// the same five minutes the reference libraries use.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify, for errors.Is.
var (
	// ErrMissingHeader means one of the three webhook-* headers is absent.
	ErrMissingHeader = errors.New("missing header")
	// ErrTimestamp means webhook-timestamp is malformed or outside the tolerance.
	ErrTimestamp = errors.New("bad timestamp")
	// ErrNoMatch means no v1 signature in webhook-signature matches any key.
	ErrNoMatch = errors.New("no matching signature")
)

// ParseKey decodes a signing key: "whsec_" followed by base64, or a bare
// base64 secret. Surrounding white space is ignored. Error messages never
// contain the key itself.
func ParseKey(k string) ([]byte, error) {
	k = strings.TrimSpace(k)
	s, prefixed := strings.CutPrefix(k, KeyPrefix)
	what := "signing key"
	if prefixed {
		what = fmt.Sprintf("signing key after %q", KeyPrefix)
	}
	if s == "" {
		return nil, fmt.Errorf("%s is empty", what)
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawStdEncoding // tolerate a secret copied without its padding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		var corrupt base64.CorruptInputError
		if errors.As(err, &corrupt) {
			return nil, fmt.Errorf("%s is not valid base64 (bad input at character %d of %d)", what, int64(corrupt)+1, len(s))
		}
		return nil, fmt.Errorf("%s is not valid base64", what)
	}
	if len(b) < MinKeyBytes {
		return nil, fmt.Errorf("%s: %s (generate one with: openssl rand -base64 32)", what, diag.Want(fmt.Sprintf("at least %d bytes once decoded", MinKeyBytes), strconv.Itoa(len(b))))
	}
	return b, nil
}

// Sign returns the webhook-signature header value for msgID, ts and body,
// signed with every key: space-separated "v1,BASE64" entries, in the order of
// keys, so that receivers holding any one of them can verify it.
func Sign(keys []string, msgID string, ts time.Time, body []byte) (string, error) {
	secrets, err := parseKeys(keys)
	if err != nil {
		return "", err
	}
	if msgID == "" {
		return "", errors.New("signing: empty message id")
	}
	return sign(secrets, msgID, ts.Unix(), body), nil
}

func parseKeys(keys []string) ([][]byte, error) {
	if len(keys) == 0 {
		return nil, errors.New("signing: no keys")
	}
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		b, err := ParseKey(k)
		if err != nil {
			if len(keys) > 1 {
				return nil, fmt.Errorf("key %d of %d: %w", i+1, len(keys), err)
			}
			return nil, err
		}
		secrets[i] = b
	}
	return secrets, nil
}

func sign(secrets [][]byte, msgID string, unix int64, body []byte) string {
	var sb strings.Builder
	for i, s := range secrets {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString("v1,")
		sb.WriteString(base64.StdEncoding.EncodeToString(mac(s, msgID, unix, body)))
	}
	return sb.String()
}

func mac(secret []byte, msgID string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write(strconv.AppendInt(nil, unix, 10))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a signed request the way a Standard Webhooks receiver does:
// the three webhook-* headers must be present, the timestamp within
// tolerance of now (DefaultTolerance when tolerance <= 0), and at least one
// v1 signature must match one of keys. Errors wrap ErrMissingHeader,
// ErrTimestamp or ErrNoMatch.
func Verify(keys []string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	secrets, err := parseKeys(keys)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, tsText, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	for _, h := range []struct{ name, value string }{{HeaderID, id}, {HeaderTimestamp, tsText}, {HeaderSignature, sigs}} {
		if h.value == "" {
			return fmt.Errorf("%w %s", ErrMissingHeader, h.name)
		}
	}
	unix, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not unix seconds", ErrTimestamp, HeaderTimestamp, tsText)
	}
	ts := time.Unix(unix, 0)
	if skew := now.Sub(ts); skew > tolerance || -skew > tolerance {
		return fmt.Errorf("%w: %s is %s away from now, tolerance %s", ErrTimestamp, HeaderTimestamp, skew.Abs().Round(time.Second), tolerance)
	}
	for _, s := range secrets {
		want := mac(s, id, unix, body)
		for entry := range strings.FieldsSeq(sigs) {
			b64, ok := strings.CutPrefix(entry, "v1,")
			if !ok {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w in %s for %d key(s)", ErrNoMatch, HeaderSignature, len(secrets))
}
