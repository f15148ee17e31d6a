package k8scheck

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/daemongen/daemongen/generator"
)

// TestLeaderRBAC: with the Kubernetes leader backend, deploy/k8s/leader-rbac.yaml holds a Role
// granting exactly get, create and update on leases (the verbs internal/leader's tests see the
// code use, checked there against this same file) and a RoleBinding of that Role to the
// ServiceAccount the Deployment runs as. With k8s, the Deployment keeps two replicas.
func TestLeaderRBAC(t *testing.T) {
	for _, set := range [][]string{{"leader"}, {"leader", "k8s"}, generator.AllFeatures()} {
		t.Run(fmt.Sprint(set), func(t *testing.T) {
			files := render(t, set, nil)
			docs := bytes.Split(files["deploy/k8s/leader-rbac.yaml"], []byte("\n---\n"))
			if len(docs) != 2 {
				t.Fatalf("leader-rbac.yaml has %d documents, want Role and RoleBinding", len(docs))
			}
			var role rbacv1.Role
			var binding rbacv1.RoleBinding
			decodeStrict(t, "leader-rbac.yaml (Role)", docs[0], &role)
			decodeStrict(t, "leader-rbac.yaml (RoleBinding)", docs[1], &binding)
			if role.Kind != "Role" || binding.Kind != "RoleBinding" {
				t.Fatalf("kinds %q, %q", role.Kind, binding.Kind)
			}
			if len(role.Rules) != 1 {
				t.Fatalf("%d rules, want 1", len(role.Rules))
			}
			r := role.Rules[0]
			verbs := slices.Sorted(slices.Values(r.Verbs))
			if !slices.Equal(r.APIGroups, []string{"coordination.k8s.io"}) || !slices.Equal(r.Resources, []string{"leases"}) ||
				!slices.Equal(verbs, []string{"create", "get", "update"}) || len(r.NonResourceURLs) != 0 {
				t.Errorf("rule %+v, want get, create, update on coordination.k8s.io leases only", r)
			}
			if binding.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name}) {
				t.Errorf("roleRef %+v does not name the Role %q", binding.RoleRef, role.Name)
			}
			if len(binding.Subjects) != 1 || binding.Subjects[0].Kind != "ServiceAccount" || binding.Subjects[0].Name != "demo" || binding.Subjects[0].Namespace == "" {
				t.Errorf("subjects %+v, want the ServiceAccount demo with its namespace", binding.Subjects)
			}
			if !slices.Contains(set, "k8s") {
				return
			}
			var sa corev1.ServiceAccount
			decodeStrict(t, "serviceaccount.yaml", files["deploy/k8s/serviceaccount.yaml"], &sa)
			d := deployment(t, files)
			spec := d.Spec.Template.Spec
			if sa.Kind != "ServiceAccount" || spec.ServiceAccountName != sa.Name || sa.Name != binding.Subjects[0].Name {
				t.Errorf("Deployment runs as %q, ServiceAccount %q, RoleBinding binds %q: want one name", spec.ServiceAccountName, sa.Name, binding.Subjects[0].Name)
			}
			if spec.AutomountServiceAccountToken == nil || !*spec.AutomountServiceAccountToken {
				t.Error("the leader needs the ServiceAccount token mounted")
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
				t.Errorf("replicas %v, want 2 (one leader, one follower ready to take over)", d.Spec.Replicas)
			}
		})
	}
	// The etcd backend needs no Kubernetes permissions: no file at all, and no token.
	etcd := render(t, []string{"leader", "k8s"}, map[string]string{"leader-backend": "etcd"})
	if _, ok := etcd["deploy/k8s/leader-rbac.yaml"]; ok {
		t.Error("leader-rbac.yaml rendered for the etcd backend")
	}
	if mount := deployment(t, etcd).Spec.Template.Spec.AutomountServiceAccountToken; mount == nil || *mount {
		t.Errorf("automountServiceAccountToken %v with the etcd backend, want false", mount)
	}
}
