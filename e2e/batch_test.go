package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sinkServer is a scriptable HTTP batch sink on loopback.
type sinkServer struct {
	*httptest.Server
	mu       sync.Mutex
	batches  [][]map[string]any
	requests int
	answer   func(n int) int // status for the n-th request (1-based)
	hang     chan struct{}   // if set, handlers block until it is closed
}

func newSink(t *testing.T, answer func(n int) int) *sinkServer {
	s := &sinkServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		n, hang := s.requests, s.hang
		s.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
			}
			return
		}
		var batch []map[string]any
		json.NewDecoder(r.Body).Decode(&batch)
		code := s.answer(n)
		if code == 200 {
			s.mu.Lock()
			s.batches = append(s.batches, batch)
			s.mu.Unlock()
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(func() {
		s.mu.Lock()
		if s.hang != nil {
			close(s.hang)
			s.hang = nil
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *sinkServer) stats() (requests int, sizes []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		sizes = append(sizes, len(b))
	}
	return s.requests, sizes
}

func num(r record, key string) int {
	f, _ := r[key].(float64)
	return int(f)
}

// checkAccounting asserts the invariant on the final log line.
func checkAccounting(t *testing.T, r record) {
	t.Helper()
	if num(r, "enqueued") != num(r, "exported")+num(r, "dropped")+num(r, "remaining") {
		t.Errorf("accounting broken in %v", r)
	}
}

// T-BAT-3: 5,000 events then SIGTERM: the file sink holds every one, unique, and the exit is 0.
func TestBatchNothingLostOnSIGTERM(t *testing.T) {
	out := filepath.Join(t.TempDir(), "events.jsonl")
	d := startChaos(t, "burst=5000", "--batch-sink=file:"+out, "--batch-queue-size=8192", "--worker-interval=10ms")
	d.waitLog("ready", 10*time.Second)
	time.Sleep(300 * time.Millisecond) // let the burst happen on the first tick
	d.signal(syscall.SIGTERM)
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, d.dump())
	}
	summary := d.find("shutdown complete")
	checkAccounting(t, summary)
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[uint64]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct{ Seq uint64 }
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("sink line is not JSON: %q", sc.Text())
		}
		if seen[e.Seq] {
			t.Fatalf("event %d delivered twice", e.Seq)
		}
		seen[e.Seq] = true
	}
	if len(seen) < 5000 || len(seen) != num(summary, "enqueued") || num(summary, "dropped") != 0 {
		t.Fatalf("sink holds %d events; summary %v; want every enqueued event (≥ 5000) and none dropped", len(seen), summary)
	}
}

// T-BAT-1: a full batch goes out at once even with a one-hour interval.
func TestBatchSizeTrigger(t *testing.T) {
	sink := newSink(t, func(int) int { return 200 })
	d := startChaos(t, "burst=512", "--batch-sink="+sink.URL, "--batch-interval=1h", "--worker-interval=20ms")
	d.waitLog("ready", 10*time.Second)
	var sizes []int
	eventually(t, 2*time.Second, "a batch from a full queue", func() bool { _, sizes = sink.stats(); return len(sizes) > 0 })
	if sizes[0] != 512 {
		t.Fatalf("first batch has %d events, want 512", sizes[0])
	}
	d.signal(syscall.SIGTERM)
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// T-BAT-5: a sink that accepts and never answers cannot hang the shutdown: exit 74 within the
// budget, with the loss reported.
func TestBatchStuckSinkExits74(t *testing.T) {
	sink := newSink(t, func(int) int { return 200 })
	sink.hang = make(chan struct{})
	d := startChaos(t, "burst=10", "--batch-sink="+sink.URL, "--batch-interval=20ms", "--worker-interval=20ms", "--shutdown-timeout=2s")
	d.waitLog("ready", 10*time.Second)
	eventually(t, 5*time.Second, "an export in flight", func() bool { n, _ := sink.stats(); return n > 0 })
	d.expectExit(syscall.SIGTERM, 74, 4*time.Second) // 2s budget, no hang until SIGKILL
	summary := d.find("shutdown complete")
	if num(summary, "dropped")+num(summary, "remaining") == 0 {
		t.Errorf("summary %v reports no loss", summary)
	}
	checkAccounting(t, summary)
}

// T-BAT-6: 500 three times then 200 → delivered; 400 → dropped once, never retried.
func TestBatchRetries(t *testing.T) {
	sink := newSink(t, func(n int) int {
		if n <= 3 {
			return 500
		}
		return 200
	})
	d := startChaos(t, "burst=5", "--batch-sink="+sink.URL, "--batch-interval=50ms", "--batch-retry-initial=20ms", "--worker-interval=10ms")
	d.waitLog("ready", 10*time.Second)
	eventually(t, 5*time.Second, "delivery after three 500s", func() bool { _, sizes := sink.stats(); return len(sizes) > 0 })
	if n := d.count("batch export failed, retrying"); n != 3 {
		t.Errorf("%d retry logs, want 3", n)
	}
	d.signal(syscall.SIGTERM)
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if s := d.find("shutdown complete"); num(s, "dropped") != 0 || num(s, "exported") != num(s, "enqueued") {
		t.Errorf("summary %v, want everything exported, none dropped", s)
	}

	bad := newSink(t, func(int) int { return 400 })
	d = startChaos(t, "burst=5", "--batch-sink="+bad.URL, "--batch-interval=50ms", "--batch-retry-initial=20ms", "--worker-interval=10ms")
	d.waitLog("batch dropped", 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	d.signal(syscall.SIGTERM)
	d.wait(10 * time.Second) // 0, or 74 if the final drain met a 400 too
	requests, _ := bad.stats()
	if failed := d.count("batch export failed"); requests != failed || requests < 2 {
		t.Errorf("%d requests for %d failed batches: a 400 must never be retried", requests, failed)
	}
	if d.find("batch export failed, retrying") != nil {
		t.Error("a 400 was retried")
	}
	s := d.find("shutdown complete")
	if num(s, "dropped_export_failed") == 0 || num(s, "exported") != 0 {
		t.Errorf("summary %v, want everything dropped as export_failed", s)
	}
	checkAccounting(t, s)
}

// T-BAT-7: a slow sink and a flood: drops are counted, the books balance, the exit is clean
// (queue_full drops before shutdown do not change the exit code).
func TestBatchOverflow(t *testing.T) {
	sink := newSink(t, func(int) int {
		time.Sleep(100 * time.Millisecond)
		return 200
	})
	d := startChaos(t, "burst=1000", "--batch-sink="+sink.URL, "--batch-queue-size=16", "--batch-size=8", "--worker-interval=10ms")
	d.waitLog("ready", 10*time.Second)
	d.waitLog("batch dropped", 5*time.Second)
	d.signal(syscall.SIGTERM)
	if code := d.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d:\n%s", code, d.dump())
	}
	s := d.find("shutdown complete")
	if num(s, "dropped_queue_full") == 0 || num(s, "dropped_shutdown") != 0 {
		t.Errorf("summary %v, want queue_full drops and no shutdown drops", s)
	}
	checkAccounting(t, s)
	if n := d.count("batch dropped"); n > 2 {
		t.Errorf("%d drop warnings in a few seconds: the log is flooded", n)
	}
}
