package k8scheck

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemongen/daemongen/generator"
	"github.com/daemongen/daemongen/templates"
)

// render returns the files of a project with the given features and settings.
func render(t *testing.T, features []string, settings map[string]string) map[string][]byte {
	t.Helper()
	a, err := generator.Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: features, Settings: settings}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := generator.Render(templates.FS, fstest.MapFS{}, a, append([]string{"base"}, a.Features...), generator.Manifest{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, c := range cs {
		files[c.Path] = c.New
	}
	return files
}

// decodeStrict decodes YAML into a typed object and fails on any field the API type lacks, the
// way `kubectl apply --validate=strict` would.
func decodeStrict(t *testing.T, name string, data []byte, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s does not decode strictly into %T: %v", name, into, err)
	}
}

func deployment(t *testing.T, files map[string][]byte) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	decodeStrict(t, "deployment.yaml", files["deploy/k8s/deployment.yaml"], &d)
	return &d
}

func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func seconds(t *testing.T, s string) int64 {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return int64((d + time.Second - 1) / time.Second)
}

// TestManifestsAreValidAndFollowTheContract checks every combination that includes k8s.
func TestManifestsAreValidAndFollowTheContract(t *testing.T) {
	n := 0
	for _, set := range generator.Combinations() {
		if !slices.Contains(set, "k8s") {
			continue
		}
		n++
		t.Run(fmt.Sprint(set), func(t *testing.T) {
			files := render(t, set, nil)
			d := deployment(t, files)
			var pdb policyv1.PodDisruptionBudget
			decodeStrict(t, "pdb.yaml", files["deploy/k8s/pdb.yaml"], &pdb)
			if d.Kind != "Deployment" || pdb.Kind != "PodDisruptionBudget" {
				t.Fatalf("kinds %q, %q", d.Kind, pdb.Kind)
			}
			checkContract(t, d, &pdb, slices.Contains(set, "lock") && !slices.Contains(set, "leader"))
			// Only the leader's Kubernetes backend talks to the API server; no token otherwise.
			if mount := d.Spec.Template.Spec.AutomountServiceAccountToken; mount == nil || *mount != slices.Contains(set, "leader") {
				t.Errorf("automountServiceAccountToken %v with leader %v (default backend kubernetes)", mount, slices.Contains(set, "leader"))
			}
		})
	}
	if n == 0 {
		t.Fatal("no combination includes k8s")
	}
}

// checkContract checks the Deployment and PDB against the daemon contract. With lock (one
// instance promised, and no leader election to keep one at work) the Deployment runs one
// replica, replaced with Recreate, so no two pods ever hold a lock of their own at once;
// otherwise two replicas roll without losing capacity.
func checkContract(t *testing.T, d *appsv1.Deployment, pdb *policyv1.PodDisruptionBudget, lock bool) {
	t.Helper()
	spec := d.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	switch st, replicas := d.Spec.Strategy, d.Spec.Replicas; {
	case replicas == nil:
		t.Error("replicas is not set")
	case lock && (*replicas != 1 || st.Type != appsv1.RecreateDeploymentStrategyType || st.RollingUpdate != nil):
		t.Errorf("with lock: replicas %d, strategy %+v; want 1 replica and Recreate without rollingUpdate", *replicas, st)
	case !lock && (*replicas != 2 || st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate == nil ||
		st.RollingUpdate.MaxUnavailable == nil || st.RollingUpdate.MaxUnavailable.IntValue() != 0):
		t.Errorf("without lock: replicas %d, strategy %+v; want 2 replicas rolling with maxUnavailable: 0", *replicas, st)
	}
	for probe, want := range map[*corev1.Probe][5]any{
		c.StartupProbe:   {"/startupz", int32(2), int32(3), int32(60), "admin"},
		c.LivenessProbe:  {"/livez", int32(10), int32(3), int32(6), "admin"},
		c.ReadinessProbe: {"/readyz", int32(5), int32(3), int32(2), "admin"},
	} {
		if probe == nil || probe.HTTPGet == nil {
			t.Fatalf("a probe is missing or not HTTP: %+v", probe)
		}
		got := [5]any{probe.HTTPGet.Path, probe.PeriodSeconds, probe.TimeoutSeconds, probe.FailureThreshold, probe.HTTPGet.Port.String()}
		if got != want {
			t.Errorf("probe %v, want %v", got, want)
		}
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "admin" {
		t.Errorf("ports %+v, want one named admin", c.Ports)
	}
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
		t.Fatal("no preStop sleep")
	}
	// Restricted Pod Security Standard.
	psc, sc := spec.SecurityContext, c.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod securityContext is not restricted (runAsNonRoot, seccomp RuntimeDefault)")
	}
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container securityContext is not restricted")
	}
	if c.Resources.Limits.Memory().IsZero() || envOf(c, "GOMEMLIMIT") == "" {
		t.Error("a memory limit needs a matching GOMEMLIMIT")
	}
	if pdb.Spec.Selector == nil || pdb.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != d.Spec.Selector.MatchLabels["app.kubernetes.io/name"] {
		t.Error("the PodDisruptionBudget does not select the Deployment's pods")
	}
	// The budget equation: preStop + shutdown delay + shutdown timeout + 5s ≤ grace period.
	grace := *spec.TerminationGracePeriodSeconds
	preStop := c.Lifecycle.PreStop.Sleep.Seconds
	total := preStop + seconds(t, envOf(c, "DEMO_SHUTDOWN_DELAY")) + seconds(t, envOf(c, "DEMO_SHUTDOWN_TIMEOUT")) + 5
	if total > grace {
		t.Errorf("preStop %ds + delay + timeout + 5s margin = %ds > terminationGracePeriodSeconds %d", preStop, total, grace)
	}
}

// TestOneAnswerDrivesEveryFile: changing the shutdown budget and the admin port with flags
// changes every deployment artifact consistently.
func TestOneAnswerDrivesEveryFile(t *testing.T) {
	files := render(t, []string{"k8s", "docker", "systemd"}, map[string]string{"shutdown-timeout": "40s", "admin-addr": "127.0.0.1:9090"})
	d := deployment(t, files)
	c := d.Spec.Template.Spec.Containers[0]
	if envOf(c, "DEMO_SHUTDOWN_TIMEOUT") != "40s" || *d.Spec.Template.Spec.TerminationGracePeriodSeconds != 50 {
		t.Errorf("deployment: timeout %q grace %d, want 40s and 50", envOf(c, "DEMO_SHUTDOWN_TIMEOUT"), *d.Spec.Template.Spec.TerminationGracePeriodSeconds)
	}
	if c.Ports[0].ContainerPort != 9090 || envOf(c, "DEMO_ADMIN_ADDR") != ":9090" {
		t.Errorf("deployment: port %d addr %q, want 9090", c.Ports[0].ContainerPort, envOf(c, "DEMO_ADMIN_ADDR"))
	}
	for path, wants := range map[string][]string{
		"deploy/systemd/demo.service": {"TimeoutStopSec=45s"},
		"Dockerfile":                  {"EXPOSE 9090", "ENV DEMO_ADMIN_ADDR=:9090"},
		"compose.yaml":                {"stop_grace_period: 45s", `"127.0.0.1:9090:9090"`},
		"internal/health/health.go":   {`"127.0.0.1:9090"`},
		"internal/lifecycle/group.go": {"40*time.Second"},
	} {
		for _, want := range wants {
			if !strings.Contains(string(files[path]), want) {
				t.Errorf("%s lacks %q", path, want)
			}
		}
	}
}
