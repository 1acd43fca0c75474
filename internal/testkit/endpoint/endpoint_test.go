package endpoint

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRecordsAndCountsPerKey(t *testing.T) {
	t.Parallel()
	var seen []string
	s := Start(t, func(w http.ResponseWriter, r *http.Request, got Request) {
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, string(body))
		if got.N == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	send := func(key, body string) int {
		req, err := http.NewRequest(http.MethodPost, s.URL+"/a?x=1", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Idempotency-Key", key)
		req.Header.Set("Cronrelay-Attempt", "7")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	codes := []int{send("k1", "one"), send("k1", "two"), send("k2", "three")}
	if diff := cmp.Diff([]int{503, 204, 503}, codes); diff != "" {
		t.Errorf("status codes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, seen); diff != "" {
		t.Errorf("bodies the handler read (-want +got):\n%s", diff)
	}
	var got []string
	for _, r := range s.Requests() {
		got = append(got, r.Method+" "+r.Path+"?"+r.Query+" "+r.Body+" "+r.Key()+" seq "+string(rune('0'+r.Seq))+" n "+string(rune('0'+r.N)))
	}
	want := []string{"POST /a?x=1 one k1 seq 1 n 1", "POST /a?x=1 two k1 seq 2 n 2", "POST /a?x=1 three k2 seq 3 n 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"k1 attempt 7", "k1 attempt 7", "k2 attempt 7"}, s.Keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if d := s.Requests()[0].Dump(); !strings.HasPrefix(d, "POST /a?x=1\n") || !strings.Contains(d, "\nIdempotency-Key: k1\n") || !strings.HasSuffix(d, "\n\none\n") {
		t.Errorf("dump:\n%s", d)
	}
	s.Reset()
	s.SetHandler(nil)
	if code := send("k1", "four"); code != http.StatusOK || s.Len() != 1 || s.Requests()[0].N != 1 {
		t.Errorf("after Reset and SetHandler(nil): status %d, %d requests %+v", code, s.Len(), s.Requests())
	}
}
