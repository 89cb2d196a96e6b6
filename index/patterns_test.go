package index

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	vregexp "github.com/blevesearch/vellum/regexp"

	"github.com/tipline/tipline/internal/tip"
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

// TestCostlyRegexpsRefusedBeforeTheyAreBuilt: the expression of the security test
// (/.{0,1000}x.{0,1000}/ ran 21.6 s inside Bleve before it was refused) and its kin are refused
// by their automaton's size before Bleve builds anything; what analysts write passes.
func TestCostlyRegexpsRefusedBeforeTheyAreBuilt(t *testing.T) {
	tests := []struct {
		re      string
		refused bool
	}{
		{`.{0,1000}x.{0,1000}`, true},
		{`.{0,20}x.{0,20}`, true},
		{`.{0,9}x.{0,9}`, true},
		{`(.|[a-z]{2}){0,6}x.{6}`, true},
		{`\pL{2,10}`, true},       // every letter of every script: hundreds of ranges
		{`\pL+\pL{4}`, true},      // 4 s in vellum with six states
		{`(.?){30}.{0,30}`, true}, // long
		{`wxid_[a-z0-9]{6,20}`, false},
		{`1[3-9][0-9]{9}`, false},
		{`[0-9]{11}`, false},
		{`(?i)WXID_[A-Z0-9]{6,20}`, false},
		{`[\p{Han}]{2,10}`, false},
		{`.*x.*y`, false},
		{`敲.*`, false},
		{`a[0-9]{4}|wxid_ln.*`, false},
	}
	for _, tt := range tests {
		if err := regexpCost(tt.re); (err != nil) != tt.refused {
			t.Errorf("%s: %v, want refused %v", tt.re, err, tt.refused)
		}
	}
	idx := indexOf(t, newTip("有人用 wxid_abc123 敲诈", tip.Sextortion, tip.Yufeng, time.Now()))
	_, err := idx.Search(context.Background(), Query{Text: "/.{0,1000}x.{0,1000}/"})
	if !errors.Is(err, ErrBadQuery) || !strings.Contains(err.Error(), "kinds of characters") {
		t.Errorf("the security test's expression: %v", err)
	}
	res, err := idx.Search(context.Background(), Query{Text: "/wxid_[a-z0-9]{6,20}/"})
	if err != nil || res.Total != 1 {
		t.Errorf("an analyst's expression: %v", err)
	}
}

// BenchmarkCostliestAcceptedRegexp builds, as Bleve does before reading any word, the
// automata of the costliest expressions regexpCost lets through (found by a random search over
// the kinds of expressions that blow up; docs/security.md), to keep the bound honest.
func BenchmarkCostliestAcceptedRegexp(b *testing.B) {
	for _, re := range []string{`(.|xy)*(.|xy){0,9}x{1,2}\p{Han}+`, `[^x]*\p{Han}{0,9}\p{Han}{0,3}[a-z]`, `[0-9]*(.|xy)*\p{Han}{10}`, `wxid_[a-z0-9]{6,20}`} {
		if err := regexpCost(re); err != nil {
			b.Fatalf("%s: %v", re, err)
		}
		b.Run(re, func(b *testing.B) {
			for b.Loop() {
				if _, err := vregexp.New(re); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestWeightsThatOverflowAreRefused: word^1e308 made every score infinite, which JSON cannot
// carry (a 200 with an empty body); ^0 divides by zero.
func TestWeightsThatOverflowAreRefused(t *testing.T) {
	idx := indexOf(t, newTip("裸聊敲诈", tip.Sextortion, tip.Yufeng, time.Now()))
	for text, ok := range map[string]bool{"裸聊^1e308": false, "裸聊^0": false, "裸聊^-1": false, "裸聊^101": false, "裸聊^2": true, "裸聊^0.5": true} {
		res, err := idx.Search(context.Background(), Query{Text: text})
		switch {
		case ok && (err != nil || res.Total != 1 || math.IsInf(res.Hits[0].Score, 0)):
			t.Errorf("%s: %v", text, err)
		case !ok && !errors.Is(err, ErrBadQuery):
			t.Errorf("%s: %v, want refused", text, err)
		}
	}
}

// TestSearchBudget: a search past its time is refused as too costly, not left to run.
func TestSearchBudget(t *testing.T) {
	idx, _, _, _ := spreadIndex(t)
	idx.budget = time.Nanosecond
	if _, err := idx.Search(context.Background(), Query{Text: "/[0-9]+/"}); !errors.Is(err, ErrTooCostly) {
		t.Errorf("past its time: %v", err)
	}
}

// TestCostlySearchesAtOnce: an analyst runs two searches with patterns at once, everyone four.
func TestCostlySearchesAtOnce(t *testing.T) {
	var l costlyLimiter
	var releases []func()
	take := func(user string, want bool) {
		t.Helper()
		release, ok := l.acquire(user)
		if ok != want {
			t.Fatalf("%s: got a place %v, want %v", user, ok, want)
		}
		if ok {
			releases = append(releases, release)
		}
	}
	take("a", true)
	take("a", true)
	take("a", false)
	take("b", true)
	take("c", true)
	take("d", false)
	releases[0]()
	take("d", true)
	take("a", false)
}
