package classify

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestMatcherFindsEveryOccurrenceWithPositions(t *testing.T) {
	patterns := []string{"高炮", "714高炮", "裸聊", "聊", "he", "she", "his", "hers"}
	m := newMatcher(patterns)
	tests := []struct {
		text string
		want []string // pattern@start
	}{
		{"714高炮借款", []string{"714高炮@0", "高炮@3"}},
		{"裸聊裸聊", []string{"裸聊@0", "聊@3", "裸聊@6", "聊@9"}},
		{"ushers", []string{"she@1", "he@2", "hers@2"}},
		{"", nil},
		{"无关文字", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, h := range m.find(tt.text, nil) {
			got = append(got, patterns[h.pattern]+"@"+strconv.Itoa(h.end-m.lens[h.pattern]))
		}
		slices.Sort(got)
		want := slices.Clone(tt.want)
		slices.Sort(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q: got %v, want %v", tt.text, got, want)
		}
	}
}

func FuzzMatcherAgreesWithStringsIndex(f *testing.F) {
	f.Add("裸聊高炮714高炮", "高炮")
	f.Fuzz(func(t *testing.T, text, pattern string) {
		if pattern == "" {
			return
		}
		m := newMatcher([]string{pattern})
		var got []int
		for _, h := range m.find(text, nil) {
			got = append(got, h.end-len(pattern))
		}
		var want []int
		for i := 0; i+len(pattern) <= len(text); i++ {
			if text[i:i+len(pattern)] == pattern {
				want = append(want, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("matcher %v, brute force %v", got, want)
		}
	})
}
