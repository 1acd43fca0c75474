package deliver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// BenchmarkDeliverConcurrent makes 1,000 deliveries to an endpoint that
// answers after 50 ms, 50 at a time: ideally 1 s per iteration. It reports
// the wall time against that ideal as x-ideal (target: under 1.3), which
// shows whether NewHTTPClient's pool keeps up with the engine's concurrency.
func BenchmarkDeliverConcurrent(b *testing.B) {
	const (
		deliveries  = 1000
		concurrency = 50
		latency     = 50 * time.Millisecond
	)
	ideal := time.Duration(deliveries/concurrency) * latency
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(latency)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer srv.Close()
	c := &Client{HTTP: NewHTTPClient(), UserAgent: "cronrelay/bench", Now: time.Now}
	defer c.HTTP.CloseIdleConnections()

	var failures int
	var mu sync.Mutex
	var total time.Duration
	for b.Loop() {
		began := time.Now()
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for i := range deliveries {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				r := testRequest(srv.URL)
				r.DeliveryID = fmt.Sprintf("bench#%d", i)
				r.SigningKeys = []string{testKey, testKey2}
				if res := c.Deliver(context.Background(), r); res.Outcome != Success {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		total += time.Since(began)
	}
	if failures > 0 {
		b.Fatalf("%d deliveries failed", failures)
	}
	b.ReportMetric(float64(total)/float64(ideal)/float64(b.N), "x-ideal")
}
