package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/tipline/tipline/classify"
)

func TestClassifyLines(t *testing.T) {
	in := strings.Join([]string{
		`{"id": "a1", "text": "有人约我裸聊，录屏后要把不雅视频发给你的亲友"}`,
		`not json`,
		`{"id": 7, "text": "今天天气不错"}`,
	}, "\n")
	var out bytes.Buffer
	if err := classifyLines(strings.NewReader(in), &out, classify.New(classify.DefaultRules(), classify.DefaultGazetteer())); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d output lines for 3 input lines:\n%s", len(lines), out.String())
	}
	var first, second, third map[string]any
	for i, dst := range []*map[string]any{&first, &second, &third} {
		if err := json.Unmarshal([]byte(lines[i]), dst); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
	}
	if first["id"] != "a1" || first["category"] != "sextortion" || first["office"] != "city" ||
		len(first["matches"].([]any)) < 3 || first["entities"] == nil || first["score"].(float64) < 3 {
		t.Errorf("first: %v", first)
	}
	if second["line"] != float64(2) || second["error"] == nil {
		t.Errorf("second: %v", second)
	}
	if third["id"] != float64(7) || third["category"] != "unclassified" {
		t.Errorf("third: %v", third)
	}
}

func TestRulesCheckCommand(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.yaml"
	if err := os.WriteFile(bad, []byte("version: x\nthreshold: 1\ncategories:\n  fraud:\n    terms: [{term: 诈骗, weight: 1, why: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := rulesCommand().ParseAndRun(context.Background(), []string{"check", bad})
	if err == nil || !strings.Contains(err.Error(), `unknown category "fraud"`) {
		t.Errorf("check of a bad file: %v", err)
	}
	if err := rulesCommand().ParseAndRun(context.Background(), []string{"check", "../../classify/rules.yaml"}); err != nil {
		t.Errorf("check of the shipped rules: %v", err)
	}
}

func TestEvaluateCommand(t *testing.T) {
	var out bytes.Buffer
	if err := evaluate("../../classify/testdata/dev.jsonl", classify.New(classify.DefaultRules(), classify.DefaultGazetteer()), true, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"macro-F1", "precision", "label \\ predicted", "sextortion", "misclassified:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("eval output lacks %q:\n%s", want, out.String())
		}
	}
}
