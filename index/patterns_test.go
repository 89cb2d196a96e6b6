package index

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestPatternsThatStandForTooManyWords: "*" and its kin are refused before any search (they
// stand for every word of the index); a pattern that stands for fewer words is searched.
func TestPatternsThatStandForTooManyWords(t *testing.T) {
	idx, _, _, _ := spreadIndex(t) // 6,000 tips numbered 第0条 to 第5999条: 6,000 numbers
	tests := []struct {
		text  string
		total uint64 // 0: refused
	}{
		{"*", 0},
		{"/.*/", 0},
		{"/[0-9]+/", 0},
		{"?*", 0},
		{"4*", 1111},           // 4, 40–49, 400–499, 4000–4999
		{"/4[0-9][0-9]/", 100}, // 400–499
		{"text:4*", 1111},
	}
	for _, tt := range tests {
		res, err := idx.Search(context.Background(), Query{Text: tt.text})
		switch {
		case tt.total == 0 && (!errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), "more than 2000 words")):
			t.Errorf("%s: %v, want refused as too broad", tt.text, err)
		case tt.total > 0 && err != nil:
			t.Errorf("%s: %v", tt.text, err)
		case tt.total > 0 && res.Total != tt.total:
			t.Errorf("%s: %d tips, want %d", tt.text, res.Total, tt.total)
		}
	}
}
