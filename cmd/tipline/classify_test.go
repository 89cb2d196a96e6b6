package main

import (
	"bytes"
	"encoding/json"
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
