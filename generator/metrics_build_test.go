package generator_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/internal/projecttest"
)

// TestGeneratedModulesAreTidyAndVerified: the go.mod and go.sum daemongen writes are exactly
// what the go command would write (go mod tidy -diff prints nothing), and every module in the
// cache matches go.sum (go mod verify), for the covering sets with metrics, rendered by `new`
// and by `new` then `add metrics`.
func TestGeneratedModulesAreTidyAndVerified(t *testing.T) {
	projecttest.RequireGo(t)
	root := t.TempDir()
	var projects []generator.Answers
	for i, set := range projecttest.Covering() {
		if slices.Contains(set, "metrics") || slices.Contains(set, "leader") {
			projects = append(projects, projecttest.Answers(t, fmt.Sprintf("m%02d", i), set...))
		}
	}
	// The leader feature's other backend, alone and where its modules meet metrics'.
	for i, set := range [][]string{{"leader"}, {"leader", "metrics"}} {
		a, err := generator.Answers{Name: fmt.Sprintf("etcd%d", i), Module: "example.com/etcd", Go: "1.26", Features: set,
			Settings: map[string]string{"leader-backend": "etcd"}}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		projects = append(projects, a)
	}
	for _, a := range projects {
		set := a.Features
		dir := projecttest.Write(t, root, a)
		for _, args := range [][]string{{"mod", "tidy", "-diff"}, {"mod", "verify"}} {
			cmd := projecttest.GoCmd(dir, args...)
			cmd.Env = append(cmd.Env, "GOFLAGS=-mod=readonly")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%v: go %s: %v\n%s", set, strings.Join(args, " "), err, out)
			}
		}
	}
}

// TestMetricsExpositionFromOutside builds the daemon with the default features, runs it,
// parses /metrics with the Prometheus project's own parser (expfmt), checks names, types and
// labels, then stops it with SIGTERM and checks the last scrape against the final log line.
func TestMetricsExpositionFromOutside(t *testing.T) {
	projecttest.RequireGo(t)
	dir := projecttest.Write(t, t.TempDir(), projecttest.Answers(t, "scrapeme", generator.DefaultFeatures()...))
	bin := filepath.Join(t.TempDir(), "scrapeme")
	projecttest.Go(t, dir, "build", "-o", bin, "./cmd/scrapeme")

	cmd := exec.Command(bin, "--worker-interval=1ms")
	cmd.Env = []string{"SCRAPEME_ADMIN_ADDR=127.0.0.1:0", "XDG_RUNTIME_DIR=" + t.TempDir(), "SCRAPEME_BATCH_SINK=file:" + filepath.Join(t.TempDir(), "events.jsonl")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan map[string]any, 1024)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil {
				lines <- rec
			}
		}
		close(lines)
	}()
	var addr string
	for addr == "" {
		select {
		case rec, ok := <-lines:
			if !ok {
				t.Fatal("daemon exited before listening")
			}
			if rec["msg"] == "listening" {
				addr, _ = rec["addr"].(string)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no listening log within 10s")
		}
	}
	scrape := func() map[string]*dto.MetricFamily {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		p := expfmt.NewTextParser(model.LegacyValidation)
		mfs, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
		if err != nil {
			t.Fatalf("exposition does not parse: %v\n%s", err, body)
		}
		return mfs
	}
	var mfs map[string]*dto.MetricFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		mfs = scrape()
		if r := mfs["scrapeme_ready"]; r != nil && r.GetMetric()[0].GetGauge().GetValue() == 1 {
			if e := mfs["scrapeme_batch_items_enqueued_total"]; e != nil && e.GetMetric()[0].GetCounter().GetValue() > 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready with events enqueued within 10s: %v", mfs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mfs = scrape() // the admin listener counts a request once answered: now the scrapes show

	want := map[string]struct {
		typ    dto.MetricType
		labels []string
	}{
		"scrapeme_build_info":                 {dto.MetricType_GAUGE, []string{"goversion", "revision", "version"}},
		"scrapeme_ready":                      {dto.MetricType_GAUGE, nil},
		"scrapeme_draining":                   {dto.MetricType_GAUGE, nil},
		"scrapeme_batch_items_enqueued_total": {dto.MetricType_COUNTER, []string{"pipeline"}},
		"scrapeme_batch_items_exported_total": {dto.MetricType_COUNTER, []string{"pipeline"}},
		"scrapeme_batch_items_dropped_total":  {dto.MetricType_COUNTER, []string{"pipeline", "reason"}},
		"scrapeme_batch_queue_length":         {dto.MetricType_GAUGE, []string{"pipeline"}},
		// The rest of the contract's §12 table, for the default features.
		"scrapeme_batch_queue_capacity":                         {dto.MetricType_GAUGE, []string{"pipeline"}},
		"scrapeme_batch_exports_total":                          {dto.MetricType_COUNTER, []string{"pipeline", "result", "trigger"}},
		"scrapeme_batch_export_duration_seconds":                {dto.MetricType_HISTOGRAM, []string{"pipeline"}},
		"scrapeme_batch_last_export_success_timestamp_seconds":  {dto.MetricType_GAUGE, []string{"pipeline"}},
		"scrapeme_panics_recovered_total":                       {dto.MetricType_COUNTER, []string{"component"}},
		"scrapeme_component_restarts_total":                     {dto.MetricType_COUNTER, []string{"component", "reason"}},
		"scrapeme_component_up":                                 {dto.MetricType_GAUGE, []string{"component"}},
		"scrapeme_supervisor_backoff":                           {dto.MetricType_GAUGE, []string{"supervisor"}},
		"scrapeme_health_check_status":                          {dto.MetricType_GAUGE, []string{"check", "probe"}},
		"scrapeme_health_check_duration_seconds":                {dto.MetricType_HISTOGRAM, []string{"check"}},
		"scrapeme_health_check_failures_total":                  {dto.MetricType_COUNTER, []string{"check"}},
		"scrapeme_loop_last_progress_timestamp_seconds":         {dto.MetricType_GAUGE, []string{"loop"}},
		"scrapeme_config_last_reload_successful":                {dto.MetricType_GAUGE, nil},
		"scrapeme_config_last_reload_success_timestamp_seconds": {dto.MetricType_GAUGE, nil},
		"scrapeme_config_reload_failures_total":                 {dto.MetricType_COUNTER, nil},
		"scrapeme_instance_lock_held":                           {dto.MetricType_GAUGE, nil},
		"scrapeme_http_requests_total":                          {dto.MetricType_COUNTER, []string{"code", "method", "route"}},
		"scrapeme_http_request_duration_seconds":                {dto.MetricType_HISTOGRAM, []string{"method", "route"}},
		"scrapeme_http_requests_in_flight":                      {dto.MetricType_GAUGE, nil},
		"go_goroutines":                                         {dto.MetricType_GAUGE, nil},
		"process_start_time_seconds":                            {dto.MetricType_GAUGE, nil},
	}
	for name, w := range want {
		mf := mfs[name]
		if mf == nil {
			t.Errorf("no %s", name)
			continue
		}
		if mf.GetType() != w.typ {
			t.Errorf("%s is %v, want %v", name, mf.GetType(), w.typ)
		}
		var got []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			got = append(got, l.GetName())
		}
		if !slices.Equal(got, w.labels) {
			t.Errorf("%s labels %q, want %q", name, got, w.labels)
		}
	}
	var reasons []string
	for _, m := range mfs["scrapeme_batch_items_dropped_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				reasons = append(reasons, l.GetValue())
			}
		}
	}
	slices.Sort(reasons)
	if !slices.Equal(reasons, []string{"export_failed", "queue_full", "shutdown"}) {
		t.Errorf("drop reasons %q", reasons)
	}
	lastEnqueued := mfs["scrapeme_batch_items_enqueued_total"].GetMetric()[0].GetCounter().GetValue()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var summary map[string]any
	for rec := range lines {
		if rec["msg"] == "shutdown complete" {
			summary = rec
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("daemon exited with %v", err)
	}
	if summary == nil {
		t.Fatal("no shutdown complete line")
	}
	num := func(k string) float64 { v, _ := summary[k].(float64); return v }
	if lastEnqueued > num("enqueued") {
		t.Errorf("scraped enqueued %v > final %v", lastEnqueued, num("enqueued"))
	}
	if num("enqueued") != num("exported")+num("dropped")+num("remaining") {
		t.Errorf("final line does not balance: %v", summary)
	}
}
