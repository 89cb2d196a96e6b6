package index

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	"github.com/blevesearch/vellum"
)

// A search walks its matching tips once, in the index's own order, and keeps two things: the
// page's best hits (ranked as they pass, the time of receipt read only for the few that tie
// with the page's last one) and, per segment of the index, a bitmap of every hit. Facets are
// then counted by intersecting that bitmap with each counted value's postings, which the
// segment already holds as a bitmap. Bleve's own facets read every hit's doc values instead,
// and its sort reads every hit's time: on a million tips, those two were most of a
// two-word search (docs/performance.md, "Search on a million tips").

// hitSet is a walk's hits, by segment of the snapshot walked.
type hitSet struct {
	segs    []*scorch.SegmentSnapshot
	offsets []uint64   // the first internal number of each segment
	local   [][]uint32 // per segment, its hits' numbers in it, ascending
	bms     []*roaring.Bitmap
	total   uint64
}

func newHitSet(r *scorch.IndexSnapshot, keep bool) *hitSet {
	hs := &hitSet{segs: r.Segments()}
	var next uint64
	for _, s := range hs.segs {
		hs.offsets = append(hs.offsets, next)
		next += s.Segment().Count()
	}
	if keep {
		hs.local = make([][]uint32, len(hs.segs))
		hs.bms = make([]*roaring.Bitmap, len(hs.segs))
	}
	return hs
}

// everyTip is the hit set of "match all": each segment's live tips, no walk needed.
func everyTip(r *scorch.IndexSnapshot) *hitSet {
	hs := newHitSet(r, true)
	for i, s := range hs.segs {
		hs.bms[i] = s.DocNumbersLive()
		hs.total += hs.bms[i].GetCardinality()
	}
	return hs
}

// has reports whether segment i holds any hit.
func (hs *hitSet) has(i int) bool {
	return len(hs.local[i]) > 0 || hs.bms[i] != nil && !hs.bms[i].IsEmpty()
}

// segmentOf finds the segment holding internal number n; hits come in ascending order, so the
// last answer is tried first.
func (hs *hitSet) segmentOf(n uint64, last int) int {
	if last < len(hs.offsets) && n >= hs.offsets[last] && (last+1 == len(hs.offsets) || n < hs.offsets[last+1]) {
		return last
	}
	return sort.Search(len(hs.offsets), func(i int) bool { return hs.offsets[i] > n }) - 1
}

func (hs *hitSet) add(n uint64, last int) int {
	i := hs.segmentOf(n, last)
	if hs.local != nil && i >= 0 {
		hs.local[i] = append(hs.local[i], uint32(n-hs.offsets[i]))
	}
	hs.total++
	return i
}

// bitmap is segment i's hits as a bitmap (not to be changed: it is kept for the next caller).
func (hs *hitSet) bitmap(i int) *roaring.Bitmap {
	if hs.bms[i] == nil {
		hs.bms[i] = roaring.New()
		hs.bms[i].AddMany(hs.local[i])
	}
	return hs.bms[i]
}

// walk runs q over snapshot r. With rank > 0 the hits are scored and the best rank of them
// kept; with keep, every hit is kept by segment. The snapshot's internal numbers are split into
// parts, ranges walked side by side (0: one per core, for every 50,000 tips): a searcher can
// start anywhere (Advance), and each range's hits are scored against the whole snapshot, so
// the parts rank as one walk would.
func walk(ctx context.Context, r scopedReader, m mapping.IndexMapping, q query.Query, rank int, keep bool, parts int) (*hitSet, *topN, error) {
	if _, all := q.(*query.MatchAllQuery); all && rank == 0 && keep {
		return everyTip(r.IndexSnapshot), nil, nil
	}
	hs := newHitSet(r.IndexSnapshot, keep)
	var end uint64
	if n := len(hs.segs); n > 0 {
		end = hs.offsets[n-1] + hs.segs[n-1].Segment().Count()
	}
	if parts < 1 {
		parts = int(min(uint64(runtime.GOMAXPROCS(0)), 8, end/minPart+1))
	}
	hitSets, tops, errs := make([]*hitSet, parts), make([]*topN, parts), make([]error, parts)
	var wg sync.WaitGroup
	for p := range parts {
		wg.Go(func() {
			hitSets[p], tops[p], errs[p] = walkPart(ctx, r, m, q, rank, keep, end*uint64(p)/uint64(parts), end*uint64(p+1)/uint64(parts))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	top := tops[0]
	for p := range parts {
		hs.total += hitSets[p].total
		if keep {
			for i, nums := range hitSets[p].local {
				hs.local[i] = append(hs.local[i], nums...)
			}
		}
		if p > 0 && top != nil {
			for _, h := range tops[p].hits {
				top.offerHit(h)
			}
		}
	}
	if top != nil && top.err != nil {
		return nil, nil, top.err
	}
	return hs, top, nil
}

// minPart is the fewest tips worth a walker of their own.
const minPart = 50_000

// walkPart walks the hits numbered from lo up to hi.
func walkPart(ctx context.Context, r scopedReader, m mapping.IndexMapping, q query.Query, rank int, keep bool, lo, hi uint64) (*hitSet, *topN, error) {
	opts := search.SearcherOptions{Score: "none"}
	var top *topN
	if rank > 0 {
		opts.Score = ""
		var err error
		if top, err = newTopN(r.IndexSnapshot, rank, false); err != nil {
			return nil, nil, err
		}
	}
	s, err := q.Searcher(ctx, r, m, opts)
	if err != nil { // what the query asks cannot be searched for (fuzziness over 2, say)
		return nil, nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	defer s.Close()
	sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	hs := newHitSet(r.IndexSnapshot, keep)
	var d *search.DocumentMatch
	if lo > 0 {
		d, err = s.Advance(sctx, bindex.NewIndexInternalID(nil, lo))
	} else {
		d, err = s.Next(sctx)
	}
	seg := 0
	for ; err == nil && d != nil; d, err = s.Next(sctx) {
		n := d.IndexInternalID.Value()
		if n >= hi {
			break
		}
		if hs.total%4096 == 0 && ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		seg = hs.add(n, seg)
		if top != nil {
			top.offer(n, roundScore(d.Score))
		}
		sctx.DocumentMatchPool.Put(d)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("index: search: %w", err)
	}
	if top != nil && top.err != nil {
		return nil, nil, top.err
	}
	return hs, top, nil
}

// rankedHit is a hit in the running page: its internal number, score and, once read, its
// sort key (time of receipt).
type rankedHit struct {
	num   uint64
	score float64
	at    string
	hasAt bool
	id    string // read only for hits that tie on score and time
}

// topN keeps the best k hits seen: by score then newest first, or newest first alone. It is a
// heap whose root is the worst hit kept, so most hits of a broad search cost one comparison of
// scores and no read at all.
type topN struct {
	k      int
	byDate bool
	hits   []rankedHit
	r      *scorch.IndexSnapshot
	dv     bindex.DocValueReader
	err    error
}

func newTopN(r *scorch.IndexSnapshot, k int, byDate bool) (*topN, error) {
	dv, err := r.DocValueReader([]string{fieldSortKey})
	if err != nil {
		return nil, fmt.Errorf("index: sort key: %w", err)
	}
	return &topN{k: k, byDate: byDate, r: r, dv: dv}, nil
}

func (t *topN) key(h *rankedHit) string {
	if !h.hasAt {
		h.hasAt = true
		err := t.dv.VisitDocValues(bindex.NewIndexInternalID(nil, h.num), func(_ string, term []byte) { h.at = string(term) })
		if err != nil && t.err == nil {
			t.err = fmt.Errorf("index: sort key: %w", err)
		}
	}
	return h.at
}

// worse reports whether a ranks below b. Equal times go by tip id, the larger first: not by
// the order the index holds them, which other offices' tips change when segments merge.
func (t *topN) worse(a, b *rankedHit) bool {
	if !t.byDate && a.score != b.score {
		return a.score < b.score
	}
	if ka, kb := t.key(a), t.key(b); ka != kb {
		return ka < kb
	}
	return t.id(a) < t.id(b)
}

func (t *topN) id(h *rankedHit) string {
	if h.id == "" {
		id, err := t.r.ExternalID(bindex.NewIndexInternalID(nil, h.num))
		if err != nil && t.err == nil {
			t.err = fmt.Errorf("index: tip id: %w", err)
		}
		h.id = id
	}
	return h.id
}

// roundScore keeps eleven significant digits of a score. Bleve adds a pattern's words' scores
// in the order its heap yields them, which the postings of other offices' tips change: the
// sums then differ in their last bits.
func roundScore(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	scale := math.Pow(10, 10-math.Floor(math.Log10(math.Abs(x))))
	return math.Round(x*scale) / scale
}

func (t *topN) Len() int           { return len(t.hits) }
func (t *topN) Less(i, j int) bool { return t.worse(&t.hits[i], &t.hits[j]) }
func (t *topN) Swap(i, j int)      { t.hits[i], t.hits[j] = t.hits[j], t.hits[i] }
func (t *topN) Push(x any)         { t.hits = append(t.hits, x.(rankedHit)) }
func (t *topN) Pop() any {
	h := t.hits[len(t.hits)-1]
	t.hits = t.hits[:len(t.hits)-1]
	return h
}

func (t *topN) offer(num uint64, score float64) { t.offerHit(rankedHit{num: num, score: score}) }

func (t *topN) offerHit(h rankedHit) {
	if len(t.hits) < t.k {
		heap.Push(t, h)
		return
	}
	if t.k == 0 || !t.byDate && h.score < t.hits[0].score {
		return
	}
	if t.worse(&t.hits[0], &h) {
		t.hits[0] = h
		heap.Fix(t, 0)
	}
}

// best returns the kept hits, best first. They are compared in place, so each hit's sort key
// is read at most once.
func (t *topN) best() []rankedHit {
	sort.Slice(t.hits, func(i, j int) bool { return t.worse(&t.hits[j], &t.hits[i]) })
	return t.hits
}

// newestFirst ranks the hits of an unscored walk by time of receipt. A few hits are read one by
// one; many are taken week by week from the newest, through the weeks' bitmaps, so only the
// weeks the page reaches into have their times read.
func newestFirst(hs *hitSet, bms *facetBitmaps, top *topN) error {
	offer := func(seg int, local uint32) { top.offer(hs.offsets[seg]+uint64(local), 0) }
	if hs.total <= 4096 {
		for i := range hs.segs {
			if hs.has(i) {
				it := hs.bitmap(i).Iterator()
				for it.HasNext() {
					offer(i, it.Next())
				}
			}
		}
		return top.err
	}
	hits := make([]*roaring.Bitmap, len(hs.segs))
	weeks := make([]map[string]*roaring.Bitmap, len(hs.segs))
	var codes []string
	for i, s := range hs.segs {
		if !hs.has(i) {
			continue
		}
		hits[i] = hs.bitmap(i).Clone() // taken apart week by week below
		b, err := bms.of(s.Segment())
		if err != nil {
			return err
		}
		weeks[i] = b
		for c := range b {
			if strings.HasPrefix(c, "w") && !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	slices.SortFunc(codes, func(a, b string) int { return cmpWeek(b, a) })
	taken := uint64(0)
	for _, c := range codes {
		if taken >= uint64(top.k) {
			break
		}
		for i, h := range hits {
			if h == nil || weeks[i][c] == nil {
				continue
			}
			in := roaring.And(h, weeks[i][c])
			taken += in.GetCardinality()
			it := in.Iterator()
			for it.HasNext() {
				offer(i, it.Next())
			}
			h.AndNot(in)
		}
	}
	if taken < uint64(top.k) { // tips without a week code, should there be any
		for i, h := range hits {
			if h == nil {
				continue
			}
			it := h.Iterator()
			for it.HasNext() {
				offer(i, it.Next())
			}
		}
	}
	return top.err
}

// cmpWeek orders week codes ("w" and a base-36 week number, which may be negative) in time.
func cmpWeek(a, b string) int {
	x, _ := strconv.ParseInt(a[1:], 36, 64)
	y, _ := strconv.ParseInt(b[1:], 36, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// countCodes counts, for each facet code wanted, the hits that carry it.
func countCodes(hs *hitSet, bms *facetBitmaps, wanted func(code string) bool) (map[string]int, error) {
	counts := map[string]int{}
	for i, s := range hs.segs {
		if !hs.has(i) {
			continue
		}
		codes, err := bms.of(s.Segment())
		if err != nil {
			return nil, err
		}
		hits := hs.bitmap(i)
		for c, b := range codes {
			if wanted(c) {
				if n := hits.AndCardinality(b); n > 0 {
					counts[c] += int(n)
				}
			}
		}
	}
	return counts, nil
}

// facetBitmaps keeps, for each segment of the index, the postings of every facet code as a
// bitmap. Segments never change once written, so a segment's bitmaps are read once; those of
// segments merged away are dropped when a search no longer sees them.
type facetBitmaps struct {
	mu   sync.Mutex
	segs map[segment.Segment]map[string]*roaring.Bitmap
}

func (f *facetBitmaps) of(s segment.Segment) (map[string]*roaring.Bitmap, error) {
	f.mu.Lock()
	b, ok := f.segs[s]
	f.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := readCodes(s)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if f.segs == nil {
		f.segs = map[segment.Segment]map[string]*roaring.Bitmap{}
	}
	f.segs[s] = b
	f.mu.Unlock()
	return b, nil
}

// keep drops the bitmaps of segments that are not in live.
func (f *facetBitmaps) keep(live []*scorch.SegmentSnapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.segs {
		if !slices.ContainsFunc(live, func(l *scorch.SegmentSnapshot) bool { return l.Segment() == s }) {
			delete(f.segs, s)
		}
	}
}

// readCodes reads every facet code of a segment with its postings. Postings may list deleted
// tips; a search's hits never do, so the intersections are right.
func readCodes(s segment.Segment) (map[string]*roaring.Bitmap, error) {
	dict, err := s.Dictionary(fieldFacets)
	if err != nil {
		return nil, fmt.Errorf("index: facet codes: %w", err)
	}
	out := map[string]*roaring.Bitmap{}
	it := dict.AutomatonIterator(&vellum.AlwaysMatch{}, nil, nil)
	for {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("index: facet codes: %w", err)
		}
		if e == nil {
			return out, nil
		}
		pl, err := dict.PostingsList([]byte(e.Term), nil, nil)
		if err != nil {
			return nil, fmt.Errorf("index: facet %s: %w", e.Term, err)
		}
		b := roaring.New()
		if o, ok := pl.(interface{ OrInto(*roaring.Bitmap) }); ok {
			o.OrInto(b)
		} else {
			pi := pl.Iterator(false, false, false, nil)
			for {
				p, err := pi.Next()
				if err != nil {
					return nil, fmt.Errorf("index: facet %s: %w", e.Term, err)
				}
				if p == nil {
					break
				}
				b.Add(uint32(p.Number()))
			}
		}
		out[e.Term] = b
	}
}
