package classify

import "testing"

func BenchmarkScratchViews(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	texts := benchTips(b)
	b.SetBytes(int64(len(texts[0])))
	i := 0
	for b.Loop() {
		_ = c.fold.views(texts[i%len(texts)])
		i++
	}
}
func BenchmarkScratchEntities(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	texts := benchTips(b)
	var vws []views
	for _, t := range texts {
		vws = append(vws, c.fold.views(t))
	}
	i := 0
	for b.Loop() {
		_ = c.entities(vws[i%len(vws)])
		i++
	}
}
func BenchmarkScratchScore(b *testing.B) {
	c := New(DefaultRules(), DefaultGazetteer())
	texts := benchTips(b)
	var vws []views
	for _, t := range texts {
		vws = append(vws, c.fold.views(t))
	}
	i := 0
	for b.Loop() {
		vw := vws[i%len(vws)]
		_ = c.score(vw, c.matcher.find(vw.squeezed, make([]hit, 0, 256)), "")
		i++
	}
}
