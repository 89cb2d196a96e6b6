package index

import (
	"context"
	"fmt"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/tipline/tipline/internal/tip"
)

// A search must answer an analyst of one office the same whatever the other offices' tips say
// (docs/security.md, "Office scoping"). Filtering the hits by office is not enough: Bleve ranks
// by TF-IDF over the whole index (how many tips hold a word), and it expands a pattern into
// every word of the index's dictionary, so another office's tips moved scores and decided
// whether a pattern stood for too many words. A scope is therefore what one analyst may see of
// one snapshot, and scopedReader is the snapshot as that analyst's searches see it: the tips
// counted are theirs, and so are the words a pattern stands for.

// scope is, per segment of a snapshot, the live tips of some offices.
type scope struct {
	ctx   context.Context // a dictionary walk stops when it is done
	segs  []*scorch.SegmentSnapshot
	in    []*roaring.Bitmap
	total uint64

	mu     sync.Mutex // a segment's dictionary is not safe for concurrent use
	dicts  map[string][]segment.TermDictionary
	counts map[string]uint64 // field, NUL, term → tips in scope holding it
}

// newScope is the live tips of offices (nil: every office) in snap.
func newScope(ctx context.Context, snap *scorch.IndexSnapshot, bms *facetBitmaps, offices []tip.Office) (*scope, error) {
	s := &scope{ctx: ctx, segs: snap.Segments(), dicts: map[string][]segment.TermDictionary{}, counts: map[string]uint64{}}
	for _, seg := range s.segs {
		live := seg.DocNumbersLive()
		if offices != nil {
			codes, err := bms.of(seg.Segment())
			if err != nil {
				return nil, err
			}
			theirs := roaring.New()
			for _, o := range offices {
				if b := codes[facetCode(fieldOffice, string(o))]; b != nil {
					theirs.Or(b)
				}
			}
			live.And(theirs)
		}
		s.in = append(s.in, live)
		s.total += live.GetCardinality()
	}
	return s, nil
}

// count is the number of tips in scope whose field holds term.
func (s *scope) count(field string, term []byte) (uint64, error) {
	key := field + "\x00" + string(term)
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.counts[key]; ok {
		return n, nil
	}
	dicts, err := s.dictionaries(field)
	if err != nil {
		return 0, err
	}
	var n uint64
	for i, d := range dicts {
		if d == nil || s.in[i].IsEmpty() {
			continue
		}
		pl, err := d.PostingsList(term, nil, nil)
		if err != nil {
			return 0, fmt.Errorf("index: postings of a word: %w", err)
		}
		n += within(pl, s.in[i])
	}
	s.counts[key] = n
	return n, nil
}

func (s *scope) dictionaries(field string) ([]segment.TermDictionary, error) {
	if d, ok := s.dicts[field]; ok {
		return d, nil
	}
	d := make([]segment.TermDictionary, len(s.segs))
	for i, seg := range s.segs {
		var err error
		if d[i], err = seg.Segment().Dictionary(field); err != nil {
			return nil, fmt.Errorf("index: dictionary of %s: %w", field, err)
		}
	}
	s.dicts[field] = d
	return d, nil
}

// within counts the postings that are in bm, reading the segment's own bitmap where it has one.
func within(pl segment.PostingsList, bm *roaring.Bitmap) uint64 {
	it := pl.Iterator(false, false, false, nil)
	if o, ok := it.(segment.OptimizablePostingsIterator); ok {
		if actual := o.ActualBitmap(); actual != nil {
			return actual.AndCardinality(bm)
		}
		if n, ok := o.DocNum1Hit(); ok && bm.Contains(uint32(n)) {
			return 1
		}
		return 0 // empty, or one tip not in bm
	}
	var n uint64
	for p, err := it.Next(); err == nil && p != nil; p, err = it.Next() {
		if bm.Contains(uint32(p.Number())) {
			n++
		}
	}
	return n
}

// scopedReader is a snapshot seen through a scope: it counts the scope's tips (the statistics
// TF-IDF reads) and lists only the words the scope's tips hold (the words a pattern, a range
// or a fuzzy word stands for). Everything else is the snapshot's own, so Bleve's searchers and
// their optimisations work on it unchanged.
type scopedReader struct {
	*scorch.IndexSnapshot
	s *scope
}

func (r scopedReader) DocCount() (uint64, error) { return r.s.total, nil }

func (r scopedReader) TermFieldReader(ctx context.Context, term []byte, field string, freq, norm, vectors bool) (bindex.TermFieldReader, error) {
	tfr, err := r.IndexSnapshot.TermFieldReader(ctx, term, field, freq, norm, vectors)
	if err != nil {
		return nil, err
	}
	inner, ok := tfr.(*scorch.IndexSnapshotTermFieldReader)
	if !ok {
		_ = tfr.Close()
		return nil, fmt.Errorf("index: a %T is not a scorch term reader", tfr)
	}
	n, err := r.s.count(field, term)
	if err != nil {
		_ = tfr.Close()
		return nil, err
	}
	return &scopedTerm{inner, n}, nil
}

// scopedTerm is a word's postings (all of them: the query's office filter drops the others'
// tips) with the scope's count of tips holding it.
type scopedTerm struct {
	*scorch.IndexSnapshotTermFieldReader
	n uint64
}

func (t *scopedTerm) Count() uint64 { return t.n }

func (r scopedReader) dict(d bindex.FieldDict, err error, field string) (bindex.FieldDict, error) {
	if err != nil {
		return nil, err
	}
	return &scopedDict{FieldDict: d, s: r.s, field: field}, nil
}

func (r scopedReader) FieldDict(field string) (bindex.FieldDict, error) {
	d, err := r.IndexSnapshot.FieldDict(field)
	return r.dict(d, err, field)
}

func (r scopedReader) FieldDictRange(field string, start, end []byte) (bindex.FieldDict, error) {
	d, err := r.IndexSnapshot.FieldDictRange(field, start, end)
	return r.dict(d, err, field)
}

func (r scopedReader) FieldDictPrefix(field string, prefix []byte) (bindex.FieldDict, error) {
	d, err := r.IndexSnapshot.FieldDictPrefix(field, prefix)
	return r.dict(d, err, field)
}

func (r scopedReader) FieldDictRegexp(field, re string) (bindex.FieldDict, error) {
	d, _, err := r.FieldDictRegexpAutomaton(field, re)
	return d, err
}

func (r scopedReader) FieldDictRegexpAutomaton(field, re string) (bindex.FieldDict, bindex.RegexAutomaton, error) {
	d, a, err := r.IndexSnapshot.FieldDictRegexpAutomaton(field, re)
	d, err = r.dict(d, err, field)
	return d, a, err
}

func (r scopedReader) FieldDictFuzzy(field, term string, fuzziness int, prefix string) (bindex.FieldDict, error) {
	d, _, err := r.FieldDictFuzzyAutomaton(field, term, fuzziness, prefix)
	return d, err
}

func (r scopedReader) FieldDictFuzzyAutomaton(field, term string, fuzziness int, prefix string) (bindex.FieldDict, bindex.FuzzyAutomaton, error) {
	d, a, err := r.IndexSnapshot.FieldDictFuzzyAutomaton(field, term, fuzziness, prefix)
	d, err = r.dict(d, err, field)
	return d, a, err
}

func (r scopedReader) FieldDictContains(field string) (bindex.FieldDictContains, error) {
	d, err := r.IndexSnapshot.FieldDictContains(field)
	if err != nil {
		return nil, err
	}
	return &scopedContains{FieldDictContains: d, s: r.s, field: field}, nil
}

// scopedDict lists the words of a dictionary that some tip in scope holds, each with how many.
type scopedDict struct {
	bindex.FieldDict
	s     *scope
	field string
	seen  int
}

func (d *scopedDict) Next() (*bindex.DictEntry, error) {
	for {
		e, err := d.FieldDict.Next()
		if err != nil || e == nil {
			return e, err
		}
		// A word of the dictionary is looked up in every segment: a pattern that stands for
		// many words, nearly all of them other offices', is slow, and the search's deadline
		// stops it.
		if d.seen++; d.seen%1024 == 0 && d.s.ctx.Err() != nil {
			return nil, d.s.ctx.Err()
		}
		n, err := d.s.count(d.field, []byte(e.Term))
		if err != nil {
			return nil, err
		}
		if n > 0 {
			e.Count = n
			return e, nil
		}
	}
}

// Cardinality would tell the size of the whole index's dictionary; nothing tipline searches
// with reads it (BM25 would), so it tells nothing.
func (d *scopedDict) Cardinality() int { return 0 }

type scopedContains struct {
	bindex.FieldDictContains
	s     *scope
	field string
}

func (c *scopedContains) Contains(key []byte) (bool, error) {
	n, err := c.s.count(c.field, key)
	return n > 0, err
}

// Searches with patterns walk the index's dictionary and build automata: costlyLimiter lets
// one analyst run maxCostlyPerUser of them at once and everyone together maxCostly, so that a
// few of them cannot take the cores the citizens' form and the pipeline need.
const (
	maxCostlyPerUser = 2
	maxCostly        = 4
)

type costlyLimiter struct {
	mu      sync.Mutex
	running map[string]int
	total   int
}

// acquire takes a place for user's search, or reports that there is none.
func (l *costlyLimiter) acquire(user string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running == nil {
		l.running = map[string]int{}
	}
	if l.total >= maxCostly || l.running[user] >= maxCostlyPerUser {
		return nil, false
	}
	l.total++
	l.running[user]++
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.total--
		if l.running[user]--; l.running[user] == 0 {
			delete(l.running, user)
		}
	}, true
}
