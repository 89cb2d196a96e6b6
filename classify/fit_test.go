package classify

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/tip"
)

// TestFitLearnsFromExamples: on a tiny rule set, a term that the examples show to mark its
// category gains weight, one that shows up as often in unrelated tips loses it, a negative word
// that marks look-alikes gains weight as a negative; the file written keeps every reason and
// comment, records each prior, passes the checks, and fitting it again changes nothing.
func TestFitLearnsFromExamples(t *testing.T) {
	src := []byte(`# a comment people wrote
version: "t1"
threshold: 4
window: 60
hint_weight: 1
categories:
  sextortion:
    terms:
      - {term: 裸聊, weight: 3, why: "the lure"}
      - {term: 视频, weight: 3, why: "video, also everywhere else"}
    negative:
      - {term: 色情直播, weight: 1, why: "porn streaming, another crime"}
elsewhere:
  - {term: 刷单, weight: 1, why: "task scams"}
`)
	r, err := ParseRules(src)
	if err != nil {
		t.Fatal(err)
	}
	var examples []Example
	for range 20 {
		examples = append(examples,
			Example{Text: "裸聊被录了，对方敲诈我", Label: tip.Sextortion},
			Example{Text: "裸聊视频被发给家人", Label: tip.Sextortion},
			Example{Text: "网上看视频", Label: tip.Unclassified},
			Example{Text: "视频号直播", Label: tip.Unclassified},
			Example{Text: "色情直播间里有人裸聊", Label: tip.Unclassified})
	}
	cfg := FitConfig{Lambda: 0.01} // a light pull: twenty copies of five tips are plenty
	f, err := Fit(r, DefaultGazetteer(), examples, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fitted := f.Rules(r)
	terms := fitted.Categories[tip.Sextortion].Terms
	if terms[0].Weight <= 3 || terms[1].Weight >= 3 || fitted.Categories[tip.Sextortion].Negative[0].Weight <= 1 {
		t.Errorf("weights: 裸聊 %v (want above 3), 视频 %v (want below 3), -色情直播 %v (want above 1)",
			terms[0].Weight, terms[1].Weight, fitted.Categories[tip.Sextortion].Negative[0].Weight)
	}
	out, err := f.File(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# a comment people wrote", `why: "the lure"`, "prior: 3", "thresholds: {sextortion:", `version: "t1+fit.`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the fitted file lacks %q:\n%s", want, out)
		}
	}
	again, err := ParseRules(out)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := Fit(again, DefaultGazetteer(), examples, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := f2.File(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, out2) {
		t.Errorf("fitting the fitted file again changed it:\n%s\n---\n%s", out, out2)
	}
	c := New(fitted, DefaultGazetteer())
	if v := c.Classify(Input{Text: "色情直播间里有人裸聊"}); v.Category != tip.Unclassified {
		t.Errorf("the look-alike: %+v", v)
	}
	if v := c.Classify(Input{Text: "裸聊被录了，对方敲诈我"}); v.Category != tip.Sextortion || len(v.Matches) == 0 || v.Matches[0].Weight != terms[0].Weight {
		t.Errorf("the crime: %+v (its matches must carry the fitted weights)", v)
	}
}

// TestReadFeedback: corrections of the category and confirmations from the review queue become
// examples; corrections of the office alone do not; of two lines about one tip, the last counts.
func TestReadFeedback(t *testing.T) {
	lines := strings.Join([]string{
		`{"id":"a","text":"有人雇水军刷差评","from_category":"malicious_claim","to_category":"troll_army","reason":"团伙"}`,
		`{"id":"b","text":"只改了单位","from_office":"city","to_office":"liunan","reason":"地址"}`,
		`{"id":"c","text":"裸聊被敲诈","confirmed":"sextortion"}`,
		`{"id":"a","text":"有人雇水军刷差评","confirmed":"troll_army"}`,
	}, "\n")
	got, err := ReadFeedback(strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label != tip.TrollArmy || got[1].Label != tip.Sextortion || got[0].Kind != "feedback" {
		t.Errorf("examples: %+v", got)
	}
}

// TestFittedRulesAreReproducible: the committed rules file is what "tipline rules fit" makes
// of it and the committed development data (the command in docs/classifier.md).
func TestFittedRulesAreReproducible(t *testing.T) {
	src, err := os.ReadFile("rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRules(src)
	if err != nil {
		t.Fatal(err)
	}
	var examples []Example
	// The development data, relative to this package: never the held-out part.
	fitData := []string{"testdata/dev.jsonl", "testdata/real/dev.jsonl"}
	for _, path := range fitData {
		examples = append(examples, readExamples(t, path)...)
	}
	f, err := Fit(r, DefaultGazetteer(), examples, FitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.File(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, src) {
		t.Errorf("rules.yaml is not what rules fit makes of it: run\n  tipline rules fit --data classify/%s --out classify/rules.yaml classify/rules.yaml",
			strings.Join(fitData, " --data classify/"))
	}
}
