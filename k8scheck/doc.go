// Package k8scheck validates the Kubernetes manifests daemongen generates against the real
// Kubernetes API types. It is a module of its own so that k8s.io/api and k8s.io/apimachinery,
// which are large, never become dependencies of daemongen itself.
package k8scheck
