package k8scheck

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemongen/daemongen/generator"
)

// rulesFile is rules.yaml as Prometheus reads it.
type rulesFile struct {
	Groups []monitoringv1.RuleGroup `json:"groups"`
}

// TestPrometheusOperatorObjects: with metrics (alone, with k8s, and everything), operator.yaml
// decodes strictly into the Prometheus Operator's own types, the PodMonitor selects the
// Deployment's pods on its admin port, and the PrometheusRule carries exactly rules.yaml.
func TestPrometheusOperatorObjects(t *testing.T) {
	// Alerts: availability (2) with metrics alone; k8s brings signals (config reloads, 1);
	// leader adds no leader and flapping (2); all features add batch (SLO and delivery, 5) and
	// recovery (supervisor, 1).
	wantAlerts := []int{2, 3, 5, 11}
	for i, features := range [][]string{{"metrics"}, {"metrics", "k8s"}, {"metrics", "k8s", "leader"}, generator.AllFeatures()} {
		files := render(t, features, map[string]string{"slo-target": "99.5"})
		docs := bytes.Split(files["deploy/prometheus/operator.yaml"], []byte("\n---\n"))
		if len(docs) != 2 {
			t.Fatalf("%v: operator.yaml holds %d documents, want 2", features, len(docs))
		}
		var pm monitoringv1.PodMonitor
		decodeStrict(t, "PodMonitor", docs[0], &pm)
		var pr monitoringv1.PrometheusRule
		decodeStrict(t, "PrometheusRule", docs[1], &pr)
		if pm.Kind != monitoringv1.PodMonitorsKind || pm.APIVersion != "monitoring.coreos.com/v1" {
			t.Errorf("%v: first object is %s %s", features, pm.APIVersion, pm.Kind)
		}
		if pr.Kind != monitoringv1.PrometheusRuleKind {
			t.Errorf("%v: second object is %s", features, pr.Kind)
		}
		if len(pm.Spec.PodMetricsEndpoints) != 1 || pm.Spec.PodMetricsEndpoints[0].Port == nil ||
			*pm.Spec.PodMetricsEndpoints[0].Port != "admin" || pm.Spec.PodMetricsEndpoints[0].Path != "/metrics" {
			t.Errorf("%v: PodMonitor endpoints %+v, want port admin path /metrics", features, pm.Spec.PodMetricsEndpoints)
		}
		if _, ok := files["deploy/k8s/deployment.yaml"]; ok {
			d := deployment(t, files)
			for k, v := range pm.Spec.Selector.MatchLabels {
				if d.Spec.Template.Labels[k] != v {
					t.Errorf("PodMonitor selects %s=%s; the pods are labelled %v", k, v, d.Spec.Template.Labels)
				}
			}
			ports := d.Spec.Template.Spec.Containers[0].Ports
			if len(ports) == 0 || ports[0].Name != "admin" {
				t.Errorf("the Deployment has no port named admin: %+v", ports)
			}
		}
		var rf rulesFile
		decodeStrict(t, "rules.yaml", files["deploy/prometheus/rules.yaml"], &rf)
		want, _ := yaml.Marshal(rf.Groups)
		got, _ := yaml.Marshal(pr.Spec.Groups)
		if !bytes.Equal(want, got) {
			t.Errorf("%v: PrometheusRule groups differ from rules.yaml:\n%s\nvs\n%s", features, got, want)
		}
		alerts := 0
		for _, g := range pr.Spec.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" {
					continue
				}
				alerts++
				if !strings.Contains(r.Annotations["runbook_url"], "docs/runbook.md#") || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
					t.Errorf("alert %s lacks summary, description or runbook_url: %v", r.Alert, r.Annotations)
				}
				if r.Labels["severity"] != "page" && r.Labels["severity"] != "ticket" {
					t.Errorf("alert %s has severity %q, want page or ticket", r.Alert, r.Labels["severity"])
				}
			}
		}
		if alerts != wantAlerts[i] {
			t.Errorf("%v: %d alerts, want %d", features, alerts, wantAlerts[i])
		}
		if slices.Contains(features, "batch") && !strings.Contains(string(files["deploy/prometheus/rules.yaml"]), "99.5 / 100") {
			t.Errorf("the SLO target does not reach the rules")
		}
	}
}
