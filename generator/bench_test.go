package generator

import "testing"

// BenchmarkRenderAll renders a project with every feature, in memory: templates, fragments,
// go/format and the manifest. bench/run measures the whole command, writing included.
func BenchmarkRenderAll(b *testing.B) {
	a := answers(b, AllFeatures()...)
	b.ReportAllocs()
	for b.Loop() {
		renderNew(b, a)
	}
}
