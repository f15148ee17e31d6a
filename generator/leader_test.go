package generator

import (
	"errors"
	"strings"
	"testing"
)

// TestLeaderModulesFollowTheBackend: a project requires the chosen backend's modules only,
// whichever other module-bringing feature it has.
func TestLeaderModulesFollowTheBackend(t *testing.T) {
	for backend, want := range map[string][2]string{
		"kubernetes": {"k8s.io/client-go", "go.etcd.io/"},
		"etcd":       {"go.etcd.io/etcd/client/v3", "k8s.io/"},
	} {
		for _, extra := range [][]string{nil, {"metrics"}} {
			a := answers(t, append([]string{"leader"}, extra...)...)
			a.Settings["leader-backend"] = backend
			tree := treeOf(renderNew(t, a))
			for _, f := range []string{"go.mod", "go.sum"} {
				data := string(tree[f].Data)
				if !strings.Contains(data, want[0]) {
					t.Errorf("%s %v: %s lacks %s", backend, extra, f, want[0])
				}
				if strings.Contains(data, want[1]) {
					t.Errorf("%s %v: %s mentions the other backend's %s", backend, extra, f, want[1])
				}
			}
			_, rbac := tree["deploy/k8s/leader-rbac.yaml"]
			_, kube := tree["internal/leader/kubernetes.go"]
			_, etcd := tree["internal/leader/etcd.go"]
			if rbac != (backend == "kubernetes") || kube != (backend == "kubernetes") || etcd != (backend == "etcd") {
				t.Errorf("%s: files rbac %v kubernetes.go %v etcd.go %v", backend, rbac, kube, etcd)
			}
		}
	}
}

// TestLeaderTimingsFollowClientGo: the settings are refused as client-go's NewLeaderElector
// would refuse them, naming the rule, and accepted right at its edges.
func TestLeaderTimingsFollowClientGo(t *testing.T) {
	for _, tt := range []struct {
		lease, renew, retry, backend string
		ok                           bool
	}{
		{"15s", "10s", "2s", "kubernetes", true},
		{"10s", "10s", "2s", "etcd", false},
		{"15s", "16s", "2s", "etcd", false},
		{"15s", "12s", "10s", "etcd", false},    // 12s ≤ 1.2 × 10s
		{"15s", "12100ms", "10s", "etcd", true}, // just above
		{"15s", "10s", "50ms", "etcd", false},   // below the retry period's minimum
		// The Kubernetes backend also needs whole seconds of lease above renew + retry + 1s.
		{"15s", "12100ms", "10s", "kubernetes", false},
		{"3s", "1500ms", "400ms", "kubernetes", true},
		{"3900ms", "1500ms", "500ms", "kubernetes", false}, // a 3s Lease
	} {
		a := Answers{Name: "demo", Module: "example.com/demo", Go: "1.26", Features: []string{"leader"}, Settings: map[string]string{
			"leader-lease-duration": tt.lease, "leader-renew-deadline": tt.renew, "leader-retry-period": tt.retry, "leader-backend": tt.backend}}
		_, err := a.Validate()
		var ie *InvalidError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s/%s/%s refused: %v", tt.lease, tt.renew, tt.retry, err)
		case !tt.ok && !errors.As(err, &ie):
			t.Errorf("%s/%s/%s: %v, want an InvalidError", tt.lease, tt.renew, tt.retry, err)
		}
	}
}
