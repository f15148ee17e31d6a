package generator

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Feature is one optional capability of a generated daemon. Its templates live in
// templates/features/<Name>; everything else about it is declared here.
type Feature struct {
	Name      string   // lower case; the --features value and the template directory name
	Label     string   // a few words for lists that must fit an 80-column terminal (prompts, completion)
	Summary   string   // one line, shown by `daemongen features` and the prompt's "?" help
	Default   bool     // enabled by --yes when --features is not given
	Requires  []string // features enabled together with this one
	Conflicts []string // features that cannot be enabled with this one
	Modules   []string // third-party modules the generated code imports; empty means stdlib only
	// ModulesBy names the setting whose value picks the modules: the feature keeps
	// modules-<value>.mod/.sum instead of modules.mod/.sum (see modules.go), so a project
	// requires only what the chosen variant imports. Modules lists them all.
	ModulesBy string
	Settings  []Setting // questions this feature asks; each becomes a flag of the same name
}

// Setting is one question. The same declaration drives the --flag, the prompt and the template
// ({{ .Get "key" }}), so the three cannot drift apart.
type Setting struct {
	Key     string             // flag name and Answers.Settings key, e.g. "shutdown-timeout"
	Prompt  string             // the question as shown on a terminal; short, so it fits 80 columns
	Help    string             // why it matters; shown by the prompt's "?" and by --help
	Default string             // used with --yes, offered in prompts
	Check   func(string) error // nil means any value
}

// BaseSettings are asked whatever features are chosen: they configure the base daemon.
var BaseSettings = []Setting{
	{
		Key:     "shutdown-timeout",
		Prompt:  "Shutdown budget",
		Help:    "Default for the daemon's --shutdown-timeout: how long a graceful stop may take before the daemon gives up and exits 74. Keep it below your supervisor's kill timeout (systemd TimeoutStopSec, Kubernetes terminationGracePeriodSeconds) minus 5s.",
		Default: "25s",
		Check:   checkDuration(time.Second, 10*time.Minute),
	},
}

// Catalog lists every feature, sorted by Name. It is a literal slice, not an init() registry:
// the set is closed, and one place to read is easier than a registry.
var Catalog = []Feature{
	{
		Name:     "batch",
		Label:    "batched reporter, final flush on stop",
		Summary:  "batched reporter: bounded queue, export on size or interval, retries with backoff, counted drops, a final flush that drains everything within the deadline",
		Default:  true,
		Requires: []string{"signals"}, // without signal handling, SIGTERM kills the process before the final flush
	},
	{
		Name:     "docker",
		Label:    "Dockerfile, .dockerignore, compose",
		Summary:  "multi-stage Dockerfile (static, distroless, non-root, exec-form entrypoint, STOPSIGNAL, HEALTHCHECK via a healthcheck subcommand), .dockerignore, compose.yaml",
		Requires: []string{"health", "signals"}, // HEALTHCHECK asks /readyz; docker stop sends SIGTERM
	},
	{
		Name:    "health",
		Label:   "/livez /readyz admin endpoints",
		Summary: "admin HTTP listener with /livez (loop progress), /readyz (503 as soon as shutdown starts), /startupz, /healthz; verbose, exclude and health+json formats",
		Default: true,
		Settings: []Setting{{
			Key:     "admin-addr",
			Prompt:  "Admin listener address",
			Help:    "Default for the daemon's --admin-addr: where the health probes listen. The loopback default exposes nothing; deployment files set :8081 so the orchestrator can reach it.",
			Default: "127.0.0.1:8081",
			Check:   checkListenAddr,
		}},
	},
	{
		Name:     "k8s",
		Label:    "Kubernetes Deployment and PDB",
		Summary:  "Kubernetes Deployment (probes on the admin port, preStop, grace period that fits the shutdown budget, restricted securityContext, GOMEMLIMIT) and PodDisruptionBudget",
		Requires: []string{"health", "signals"}, // the probes need the endpoints; the kubelet stops pods with SIGTERM
		Settings: []Setting{memoryLimit},
	},
	{
		Name:     "leader",
		Label:    "leader election: Kubernetes Lease or etcd",
		Summary:  "leader election across machines on a Kubernetes Lease (client-go) or an etcd election: only the leader runs the worker, followers stay ready and idle, a lost lease stops the work within the renew deadline, SIGTERM releases the lease after the work stopped",
		Requires: []string{"signals", "health"}, // SIGTERM must stop the work before the lease is released; followers report through /readyz
		Modules: []string{
			"go.etcd.io/etcd/api/v3 v3.7.3", "go.etcd.io/etcd/client/pkg/v3 v3.7.3", "go.etcd.io/etcd/client/v3 v3.7.3", "go.uber.org/zap v1.28.0",
			"k8s.io/api v0.37.2", "k8s.io/apimachinery v0.37.2", "k8s.io/client-go v0.37.2", "k8s.io/klog/v2 v2.140.0",
		},
		ModulesBy: "leader-backend",
		Settings: []Setting{
			{
				Key:     "leader-backend",
				Prompt:  "Leader election backend (kubernetes, etcd)",
				Help:    "kubernetes: a coordination.k8s.io/v1 Lease through client-go (in-cluster or --kubeconfig). etcd: an election on an etcd session lease (--etcd-endpoints). The project requires only the chosen backend's modules.",
				Default: "kubernetes",
				Check:   checkOneOf("kubernetes", "etcd"),
			},
			{
				Key:     "leader-lease-duration",
				Prompt:  "Leader lease duration",
				Help:    "Default for the daemon's --leader-lease-duration (client-go's default 15s): how long followers wait after the last renewal before taking over, so the failover time after a crash. Must exceed the renew deadline.",
				Default: "15s",
				Check:   checkDuration(time.Second, 10*time.Minute),
			},
			{
				Key:     "leader-renew-deadline",
				Prompt:  "Leader renew deadline",
				Help:    "Default for the daemon's --leader-renew-deadline (client-go's default 10s): a leader that could not renew for this long stops its work. Must be below the lease duration and above 1.2 retry periods.",
				Default: "10s",
				Check:   checkDuration(time.Second, 10*time.Minute),
			},
			{
				Key:     "leader-retry-period",
				Prompt:  "Leader retry period",
				Help:    "Default for the daemon's --leader-retry-period (client-go's default 2s): how often the leader renews and followers try to acquire; a released lease is taken over within about this time.",
				Default: "2s",
				Check:   checkDuration(100*time.Millisecond, 10*time.Minute),
			},
		},
	},
	{
		Name:    "lock",
		Label:   "single-instance flock guard",
		Summary: "single-instance guard on flock(2): second copy exits 75 naming the holder, no stale lock after kill -9, --lock-wait",
		Default: true,
	},
	{
		Name:     "metrics",
		Label:    "Prometheus /metrics, SLO alerts, runbook",
		Summary:  "Prometheus metrics on the admin listener's /metrics (build info, Go runtime, process, batch counters, readiness), SLO recording rules with multi-window multi-burn-rate alerts, promtool rule tests, runbook, SLO and postmortem documents",
		Default:  true,
		Requires: []string{"health"}, // /metrics is served by the admin listener
		Modules:  []string{"github.com/prometheus/client_golang v1.25.0", "github.com/prometheus/client_model v0.6.3"},
		Settings: []Setting{{
			Key:     "slo-target",
			Prompt:  "Delivery SLO target (%)",
			Help:    "Default 99.9, over 30 days; used by the alerting rules in deploy/prometheus. The fraction of enqueued events that must be exported rather than dropped. 99.9 allows 0.1% of events to be dropped in 30 days; the burn-rate alerts page when that budget would be gone in about two days.",
			Default: "99.9",
			Check:   checkPercent,
		}},
	},
	{
		Name:    "recovery",
		Label:   "panic recovery and restart",
		Summary: "supervised worker: panics recovered with the stack and restarted, decaying failure count, jittered backoff, exit 70 when restarting does not help",
		Default: true,
	},
	{
		Name:    "signals",
		Label:   "graceful stop, SIGHUP reload",
		Summary: "SIGINT/SIGTERM graceful shutdown within one deadline, second signal forces exit, SIGHUP validated reload",
		Default: true,
	},
	{
		Name:     "systemd",
		Label:    "Type=notify unit with watchdog",
		Summary:  "hardened Type=notify unit; the daemon sends READY/STOPPING/RELOADING itself and pings the watchdog only while its loops make progress",
		Requires: []string{"health", "signals"}, // the watchdog follows the health heartbeats; reload needs SIGHUP
		Settings: []Setting{memoryLimit},
	},
}

// DefaultFeatures returns the features --yes enables, in catalog order.
func DefaultFeatures() []string {
	var names []string
	for _, f := range Catalog {
		if f.Default {
			names = append(names, f.Name)
		}
	}
	return names
}

// AllFeatures returns every feature name in catalog order.
func AllFeatures() []string {
	names := make([]string, len(Catalog))
	for i, f := range Catalog {
		names[i] = f.Name
	}
	return names
}

// Lookup returns the named feature.
func Lookup(name string) (Feature, bool) {
	i := slices.IndexFunc(Catalog, func(f Feature) bool { return f.Name == name })
	if i < 0 {
		return Feature{}, false
	}
	return Catalog[i], true
}

// UnknownFeatureError reports a feature name that is not in the catalog.
type UnknownFeatureError struct {
	Name    string
	Suggest string // closest known name, or ""
}

func (e *UnknownFeatureError) Error() string {
	msg := fmt.Sprintf("unknown feature %q", e.Name)
	if e.Suggest != "" {
		msg += fmt.Sprintf("; did you mean %q?", e.Suggest)
	}
	return msg + " (daemongen features lists them)"
}

// ConflictError reports two requested features that cannot be enabled together.
type ConflictError struct{ A, B string }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("feature %q conflicts with %q; choose one of them", e.A, e.B)
}

// ParseFeatures turns a --features value ("a,b", "none", "all") into feature names.
func ParseFeatures(value string) ([]string, error) {
	value = strings.TrimSpace(value)
	switch value {
	case "none", "":
		return []string{}, nil
	case "all":
		return AllFeatures(), nil
	}
	var names []string
	for _, n := range strings.Split(value, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		if n == "none" || n == "all" {
			return nil, fmt.Errorf("%q cannot be combined with other feature names", n)
		}
		names = append(names, n)
	}
	return names, nil
}

// Resolve checks requested feature names, adds what they require, rejects conflicts and returns
// the closed set in catalog order (the order templates are applied in).
func Resolve(requested []string) ([]string, error) {
	want := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if want[name] {
			return nil
		}
		f, ok := Lookup(name)
		if !ok {
			return &UnknownFeatureError{Name: name, Suggest: closest(name, AllFeatures())}
		}
		want[name] = true
		for _, r := range f.Requires {
			if err := visit(r); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range requested {
		if err := visit(name); err != nil {
			return nil, err
		}
	}
	out := []string{} // never nil: the manifest says [] rather than null
	for _, f := range Catalog {
		if !want[f.Name] {
			continue
		}
		for _, c := range f.Conflicts {
			if want[c] {
				return nil, &ConflictError{A: f.Name, B: c}
			}
		}
		out = append(out, f.Name)
	}
	return out, nil
}

// Combinations returns every valid feature set (Requires closed, no Conflicts), "none" first,
// in a deterministic order. The compile tests prove that each of them builds.
func Combinations() [][]string {
	seen := map[string]bool{}
	var out [][]string
	for mask := 0; mask < 1<<len(Catalog); mask++ {
		var req []string
		for i, f := range Catalog {
			if mask&(1<<i) != 0 {
				req = append(req, f.Name)
			}
		}
		set, err := Resolve(req)
		if err != nil {
			continue
		}
		key := strings.Join(set, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, set)
	}
	return out
}

// Settings returns the questions asked for a feature set: base settings first, then each
// feature's, in catalog order. A setting two features share (memory-limit) is listed once.
func Settings(features []string) []Setting {
	out := slices.Clone(BaseSettings)
	for _, f := range Catalog {
		if !slices.Contains(features, f.Name) {
			continue
		}
		for _, s := range f.Settings {
			if !slices.ContainsFunc(out, func(o Setting) bool { return o.Key == s.Key }) {
				out = append(out, s)
			}
		}
	}
	return out
}

// SettingOwner returns the feature that declares the setting key, or "base" for the base
// settings, or "" for an unknown key.
func SettingOwner(key string) string {
	if slices.ContainsFunc(BaseSettings, func(s Setting) bool { return s.Key == key }) {
		return "base"
	}
	for _, f := range Catalog {
		if slices.ContainsFunc(f.Settings, func(s Setting) bool { return s.Key == key }) {
			return f.Name
		}
	}
	return ""
}

// AllSettings returns every setting of the base and of every feature; the CLI registers one
// flag for each.
func AllSettings() []Setting { return Settings(AllFeatures()) }

func checkDuration(minimum, maximum time.Duration) func(string) error {
	return func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration; use a value like 25s or 1m30s", s)
		}
		if d < minimum || d > maximum {
			return fmt.Errorf("%s is out of range; use a value from %s to %s", d, minimum, maximum)
		}
		// The value is copied into deployment files and the README as written.
		if !plainDuration.MatchString(s) {
			return fmt.Errorf("write it plainly (no sign, leading zero or units out of order): use %s", plainForm(d))
		}
		return nil
	}
}

// plainDuration is how people write durations: hours, minutes, seconds (with a fraction) or
// milliseconds, each once, largest first, no sign or leading zeros.
var plainDuration = regexp.MustCompile(`^([1-9][0-9]*h)?([1-9][0-9]*m)?((0|[1-9][0-9]*)(\.[0-9]*[1-9])?s|[1-9][0-9]*ms)?$`)

// plainForm writes d plainly: time.Duration's form without its trailing zero units.
func plainForm(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// checkListenAddr accepts host:port where host is empty, an IP address or a DNS name and port
// is a number from 0 to 65535 written plainly (0 picks a free one). The value lands in Go
// string literals, Markdown code spans, Dockerfiles and YAML, so anything that could need
// escaping in one of them (quotes, backslashes, spaces, zone IDs) is refused rather than
// escaped differently for each.
func checkListenAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || strings.ContainsAny(s, " \t\r\n\"'`\\") {
		return fmt.Errorf("%q is not host:port; use a value like 127.0.0.1:8081 or :8081", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != port {
		return fmt.Errorf("port %q is not a number from 0 to 65535 (digits only, no leading zero)", port)
	}
	if host != "" && net.ParseIP(host) == nil && !isDNSName(host) {
		return fmt.Errorf("host %q is neither an IP address nor a host name; use a value like 127.0.0.1:8081 or :8081", host)
	}
	return nil
}

// checkOneOf accepts exactly one of values.
func checkOneOf(values ...string) func(string) error {
	return func(s string) error {
		if !slices.Contains(values, s) {
			return fmt.Errorf("%q is not one of %s", s, strings.Join(values, ", "))
		}
		return nil
	}
}

// JitterFactor is client-go's leaderelection.JitterFactor: followers retry every RetryPeriod
// times up to this factor, and client-go refuses a renew deadline not above it.
const JitterFactor = 1.2

// CheckLeaderTimings applies client-go's rules (NewLeaderElector) to the three durations:
// lease duration > renew deadline > JitterFactor × retry period. The generated daemon checks
// its flags the same way; refusing the defaults here means a project never starts with
// defaults its own daemon rejects.
func CheckLeaderTimings(lease, renew, retry time.Duration) error {
	if lease <= renew {
		return fmt.Errorf("lease duration %s must be greater than the renew deadline %s", lease, renew)
	}
	if float64(renew) <= JitterFactor*float64(retry) {
		return fmt.Errorf("renew deadline %s must be greater than %.1f × the retry period %s", renew, JitterFactor, retry)
	}
	return nil
}

// CheckKubernetesLease applies the rule the generated Kubernetes backend adds to client-go's:
// the Lease records its duration in whole seconds and client-go sees renewals to the second,
// so a follower may take over a second early; the whole seconds must exceed the renew deadline
// and a retry period by more than that, or two instances may lead at once.
func CheckKubernetesLease(lease, renew, retry time.Duration) error {
	if lease.Truncate(time.Second)-time.Second <= renew+retry {
		return fmt.Errorf("lease duration %s must exceed the renew deadline + the retry period + 1s (%s) in whole seconds: the Lease records whole seconds and client-go sees renewals to the second", lease, renew+retry+time.Second)
	}
	return nil
}

// checkPercent accepts an SLO target: a decimal number of percent in [95, 100).
func checkPercent(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "eE+-") {
		return fmt.Errorf("%q is not a percentage; use a value like 99.9", s)
	}
	if v < 95 || v >= 100 {
		return fmt.Errorf("%s is out of range; use a value from 95 to below 100 (below 95 a fast burn cannot be told from an outage; 100%% leaves no error budget)", s)
	}
	return nil
}

// isDNSName reports whether s is a host name of RFC 1123 labels: letters, digits and inner dashes.
func isDNSName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// closest returns the candidate within edit distance 2 of name, or "".
func closest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := editDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
