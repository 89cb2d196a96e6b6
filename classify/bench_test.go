package classify

import (
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

// benchTips are 2 KB tips made of the development set's texts, so that the density of terms,
// numbers and places is that of real reports.
func benchTips(b *testing.B) []string {
	var out []string
	var cur strings.Builder
	for _, ex := range readExamples(b, "testdata/dev.jsonl") {
		cur.WriteString(ex.Text)
		if cur.Len() >= 2048 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	return out
}

// BenchmarkMatcher is the raw scan: the compiled rules' automaton over folded text.
func BenchmarkMatcher(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	var texts []string
	var size int64
	for _, t := range benchTips(b) {
		texts = append(texts, c.fold.views(t).squeezed)
		size += int64(len(texts[len(texts)-1]))
	}
	b.SetBytes(size / int64(len(texts)))
	var hits []hit
	i := 0
	for b.Loop() {
		hits = c.matcher.find(texts[i%len(texts)], hits[:0])
		i++
	}
}

// BenchmarkAnalyze is the whole function a tip goes through: folding, matching and scoring,
// entities, routing. Run with -cpu 1 for the one-core figure.
func BenchmarkAnalyze(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	texts := benchTips(b)
	var size int64
	for _, t := range texts {
		size += int64(len(t))
	}
	b.SetBytes(size / int64(len(texts)))
	i := 0
	for b.Loop() {
		t := &tip.Tip{Text: texts[i%len(texts)]}
		c.Analyze(t)
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tips/s")
}
