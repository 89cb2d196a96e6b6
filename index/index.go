// Package index is tipline's search engine: the Bleve mapping, the indexer stage, search scoped
// to offices, related tips and clusters, and rebuilds. It is the only package that imports
// Bleve. The analysts' side (API, pages, actions, statistics) is package index/desk, which uses
// this one; this one knows nothing of users, pages or the audit log.
package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk" // registers the "cjk" analyzer
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tipline/tipline/internal/tip"
)

// Field names in the index.
const (
	fieldText       = "text"
	fieldCategory   = "category"
	fieldOffice     = "office"
	fieldSource     = "source"
	fieldReceivedAt = "received_at"
	fieldEntities   = "entities"
	fieldTerms      = "terms"
	fieldScore      = "score"
	fieldFlags      = "flags" // what a tip waits for, e.g. FlagManualTranscription
	fieldStatus     = "status"
	fieldAttached   = "attachments" // "yes" when the tip has files, else "no"
	// fieldFacets holds every value the search page counts, each as a short code (facetCodes):
	// a search counts them from this one field's postings, a bitmap per code and segment
	// (walk.go); the clusters count offices from its doc values.
	fieldFacets = "facets"
	// fieldSortKey orders tips by time of receipt in a few bytes per tip (sortKey): its doc
	// value is read for the hits that tie at a page's edge and for date order (walk.go).
	fieldSortKey = "at"
	fieldEvent   = "event" // the tip event without its text, stored only, for the detail view
)

// The facets a search counts: the keys of Result.Facets, each a map of value to tips.
const (
	FacetCategory    = fieldCategory
	FacetOffice      = fieldOffice
	FacetSource      = fieldSource
	FacetStatus      = fieldStatus
	FacetAttachments = fieldAttached
	FacetFlags       = fieldFlags
)

// Flags mark what a tip waits for. FlagManualTranscription: its scan could not be read, and an
// analyst types it in from the attached scan. FlagReview: its verdict was a near thing
// (Verdict.Uncertain) and no analyst has confirmed or corrected it yet (the review queue).
const (
	FlagManualTranscription = "manual_transcription"
	FlagReview              = "review"
)

// Index is the Bleve index of tips, keyed by tip id.
type Index struct {
	dir string
	// mu guards b and mirror against Rebuild's swap; Bleve itself is safe for concurrent use.
	mu     sync.RWMutex
	b      bleve.Index
	mirror bleve.Index // during a rebuild, the new index, which receives every Put too
	build  rebuildState
	facets facetBitmaps // the facet codes' postings of b's segments, read once per segment
	costly costlyLimiter
	budget time.Duration // how long one search may run; 0: searchBudget
}

// mappingVersion names the mapping newMapping builds, kept in each index it creates: an index
// of an older mapping answers, but without what the newer one added (version 3: the counted
// facets field and the sort key, so facets and the histogram are empty and sorting is off)
// until "tipline reindex" rebuilds it.
const (
	mappingVersion = "3"
	mappingKey     = "tipline.mapping"
)

// Open opens the index in dir, creating it with the current mapping if it does not exist.
func Open(dir string) (*Index, error) {
	b, err := bleve.Open(dir)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, fmt.Errorf("index: create %s: %w", dir, err)
		}
		b, err = newIndex(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("index: open %s: %w", dir, err)
	}
	return &Index{dir: dir, b: b}, nil
}

func newIndex(dir string) (bleve.Index, error) {
	b, err := bleve.New(dir, newMapping())
	if err != nil {
		return nil, err
	}
	if err := b.SetInternal([]byte(mappingKey), []byte(mappingVersion)); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Outdated reports whether the index was built with an older mapping and wants a rebuild.
func (x *Index) Outdated() bool {
	v, err := x.current().GetInternal([]byte(mappingKey))
	return err != nil || string(v) != mappingVersion
}

// current is the index searches and writes go to.
func (x *Index) current() bleve.Index {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.b
}

// Close flushes and closes the index.
func (x *Index) Close() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.b.Close()
}

// Count is the number of documents in the index.
func (x *Index) Count() (uint64, error) { return x.current().DocCount() }

// newMapping: text fields go through Bleve's cjk analyzer (bigrams of Han characters, so
// Chinese phrases match without a dictionary) with term vectors for phrases and highlights;
// codes are single keyword terms for filters and facets.
func newMapping() mapping.IndexMapping {
	text := bleve.NewTextFieldMapping()
	text.Analyzer = "cjk"
	text.Store = true
	text.IncludeTermVectors = true
	// Queries name the text field by default (DefaultField below), so a copy in _all would
	// double the indexing and merging work for nothing.
	text.IncludeInAll = false
	// Doc values serve sorting and facets on a field; nobody sorts by the text, and storing every
	// bigram of every tip again costs as much as the inverted index.
	text.DocValues = false

	keyword := bleve.NewKeywordFieldMapping()
	keyword.Store = true
	keyword.IncludeInAll = false
	// Filters read the inverted index; only fieldFacets and the entities (clusters) are
	// counted, so only they keep doc values.
	keyword.DocValues = false

	counted := bleve.NewKeywordFieldMapping()
	counted.Store = false
	counted.IncludeInAll = false

	date := bleve.NewDateTimeFieldMapping()
	date.Store = true
	date.IncludeInAll = false
	date.DocValues = false // sorting uses fieldSortKey

	num := bleve.NewNumericFieldMapping()
	num.Store = true
	num.IncludeInAll = false

	stored := bleve.NewTextFieldMapping()
	stored.Index = false
	stored.Store = true
	stored.IncludeInAll = false
	stored.DocValues = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldText, text)
	for _, f := range []string{fieldCategory, fieldOffice, fieldSource, fieldTerms, fieldFlags, fieldStatus, fieldAttached} {
		doc.AddFieldMappingsAt(f, keyword)
	}
	entities := bleve.NewKeywordFieldMapping()
	entities.Store = true
	entities.IncludeInAll = false
	doc.AddFieldMappingsAt(fieldEntities, entities)
	doc.AddFieldMappingsAt(fieldFacets, counted)
	doc.AddFieldMappingsAt(fieldSortKey, counted)
	doc.AddFieldMappingsAt(fieldReceivedAt, date)
	doc.AddFieldMappingsAt(fieldScore, num)
	doc.AddFieldMappingsAt(fieldEvent, stored)

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.DefaultAnalyzer = "cjk"
	// Words without a field name in a query search the tip's text.
	m.DefaultField = fieldText
	return m
}

func document(t *tip.Tip, event []byte) map[string]any {
	d := map[string]any{
		fieldText:       t.Text,
		fieldOffice:     string(t.Office),
		fieldSource:     string(t.Source),
		fieldReceivedAt: t.ReceivedAt,
		fieldEvent:      string(event),
	}
	if t.Verdict != nil {
		d[fieldCategory] = string(t.Verdict.Category)
		d[fieldScore] = t.Verdict.Score
		var terms []string
		for _, m := range t.Verdict.Matches {
			terms = append(terms, m.Term)
		}
		d[fieldTerms] = unique(terms)
	}
	var flags []string
	if t.OCR != nil && t.OCR.Manual {
		flags = append(flags, FlagManualTranscription)
	}
	if t.Verdict != nil && t.Verdict.Uncertain && (t.Handling == nil || !t.Handling.Reviewed) {
		flags = append(flags, FlagReview)
	}
	if flags != nil {
		d[fieldFlags] = flags
	}
	d[fieldAttached] = "no"
	if len(t.Attachments) > 0 {
		d[fieldAttached] = "yes"
	}
	d[fieldStatus] = tip.StatusNew
	if t.Handling != nil {
		d[fieldStatus] = t.Handling.Status
	}
	d[fieldFacets] = facetValues(d, t.ReceivedAt)
	d[fieldSortKey] = sortKey(t.ReceivedAt)
	var ents []string
	for _, e := range t.Entities {
		ents = append(ents, e.Kind+":"+e.Value)
	}
	d[fieldEntities] = unique(ents)
	return d
}

// facetValues lists a document's counted values for fieldFacets.
func facetValues(d map[string]any, at time.Time) []string {
	var out []string
	for _, f := range []string{fieldCategory, fieldOffice, fieldSource, fieldStatus, fieldAttached} {
		if v, ok := d[f].(string); ok && v != "" {
			out = append(out, facetCode(f, v))
		}
	}
	if flags, ok := d[fieldFlags].([]string); ok {
		for _, v := range flags {
			out = append(out, facetCode(fieldFlags, v))
		}
	}
	return append(out, weekCode(at), monthCode(at))
}

// facetCodes are the short codes of the counted values: a letter for the facet and the
// value's place in its list, or the value itself when it is in none.
var facetCodes, facetNames = func() (map[[2]string]string, map[string][2]string) {
	codes, names := map[[2]string]string{}, map[string][2]string{}
	add := func(facet, letter string, values []string) {
		for i, v := range values {
			code := letter + strconv.FormatInt(int64(i), 36)
			codes[[2]string{facet, v}], names[code] = code, [2]string{facet, v}
		}
	}
	var cats, offices, sources []string
	for _, c := range tip.AllCategories() {
		cats = append(cats, string(c))
	}
	for _, o := range tip.Offices() {
		offices = append(offices, string(o))
	}
	for _, src := range tip.Sources() {
		sources = append(sources, string(src))
	}
	add(fieldCategory, "c", cats)
	add(fieldOffice, "o", offices)
	add(fieldSource, "s", sources)
	add(fieldStatus, "t", tip.Statuses())
	add(fieldAttached, "a", []string{"no", "yes"})
	add(fieldFlags, "f", []string{FlagManualTranscription, FlagReview})
	return codes, names
}()

func facetCode(facet, value string) string {
	if c, ok := facetCodes[[2]string{facet, value}]; ok {
		return c
	}
	return "x" + facet + ":" + value
}

// facetName decodes a facet code: its facet and value, or "week"/"month" and the period's
// code, which histogramBuckets' bars are matched against.
func facetName(code string) (facet, value string) {
	if n, ok := facetNames[code]; ok {
		return n[0], n[1]
	}
	switch {
	case strings.HasPrefix(code, "x"):
		facet, value, _ = strings.Cut(code[1:], ":")
		return facet, value
	case strings.HasPrefix(code, "w"):
		return "week", code
	case strings.HasPrefix(code, "m"):
		return "month", code
	}
	return "", code
}

// epochMonday is the first Monday of 2000, China time: weeks count from it.
var epochMonday = time.Date(2000, 1, 3, 0, 0, 0, 0, tip.China)

func weekCode(t time.Time) string {
	return "w" + strconv.FormatInt(int64(weekOf(t).Sub(epochMonday).Hours()/24/7), 36)
}

func monthCode(t time.Time) string {
	t = t.In(tip.China)
	return "m" + strconv.FormatInt(int64((t.Year()-2000)*12+int(t.Month())-1), 36)
}

// sortKey is the time of receipt as fixed-width base-36 milliseconds since 2000, which sorts
// as text in time order (until 2089).
func sortKey(t time.Time) string {
	ms := max(t.Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).Milliseconds(), 0)
	k := strconv.FormatInt(ms, 36)
	return strings.Repeat("0", max(8-len(k), 0)) + k
}

// weekOf is the Monday, China time, that starts t's week.
func weekOf(t time.Time) time.Time {
	t = t.In(tip.China)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, tip.China)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

func unique(xs []string) []string {
	slices.Sort(xs)
	return slices.Compact(xs)
}

// Put indexes tips in one batch, replacing any earlier version of each. When it returns nil,
// the batch is on disk (scorch waits for persistence unless told otherwise). A tip that cannot
// be turned into a document is left out and reported in refused, by its position in tips; an
// error means the batch as a whole did not reach the index.
func (x *Index) Put(tips []*tip.Tip) (refused map[int]error, err error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.mirror != nil {
		if _, err := put(x.mirror, tips); err != nil {
			return nil, err
		}
	}
	return put(x.b, tips)
}

func put(idx bleve.Index, tips []*tip.Tip) (refused map[int]error, err error) {
	b := idx.NewBatch()
	for i, t := range tips {
		// The text is stored once, in its own field; the event keeps the rest.
		rest := *t
		rest.Text = ""
		event, err := tip.Marshal(&rest)
		if err == nil {
			err = b.Index(t.ID, document(t, event))
		}
		if err != nil {
			if refused == nil {
				refused = map[int]error{}
			}
			refused[i] = fmt.Errorf("index: document %s: %w", t.ID, err)
		}
	}
	if err := idx.Batch(b); err != nil {
		return nil, fmt.Errorf("index: batch of %d: %w", len(tips), err)
	}
	return refused, nil
}

// Delete removes the tips ids from the index (and from the index a rebuild is writing), in one
// batch; an unknown id is no error. tipline itself never deletes a tip, the archive being the
// system of record; the office-scoping tests delete to show that another office's removals
// change nothing an analyst sees.
func (x *Index) Delete(ids ...string) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, idx := range []bleve.Index{x.mirror, x.b} {
		if idx == nil {
			continue
		}
		b := idx.NewBatch()
		for _, id := range ids {
			b.Delete(id)
		}
		if err := idx.Batch(b); err != nil {
			return fmt.Errorf("index: delete %d tips: %w", len(ids), err)
		}
	}
	return nil
}

// Has returns the subset of ids that are in the index.
func (x *Index) Has(ctx context.Context, ids []string) (map[string]bool, error) {
	found := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return found, nil
	}
	req := bleve.NewSearchRequestOptions(query.NewDocIDQuery(ids), len(ids), 0, false)
	res, err := x.current().SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: lookup %d ids: %w", len(ids), err)
	}
	for _, h := range res.Hits {
		found[h.ID] = true
	}
	return found, nil
}

// Get returns the stored tip event for id, or ErrNotFound.
func (x *Index) Get(ctx context.Context, id string) (*tip.Tip, error) {
	tips, err := x.GetMany(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(tips) == 0 {
		return nil, ErrNotFound
	}
	return tips[0], nil
}

// GetMany returns the stored tips of ids, in one lookup, in the order given; unknown ids are
// left out.
func (x *Index) GetMany(ctx context.Context, ids []string) ([]*tip.Tip, error) {
	req := bleve.NewSearchRequestOptions(query.NewDocIDQuery(ids), len(ids), 0, false)
	req.Fields = []string{fieldEvent, fieldText}
	res, err := x.current().SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: get %d tips: %w", len(ids), err)
	}
	found, err := tipsOf(res.Hits)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*tip.Tip, len(found))
	for _, t := range found {
		byID[t.ID] = t
	}
	out := make([]*tip.Tip, 0, len(found))
	for _, id := range ids {
		if t, ok := byID[id]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// tipsOf turns hits that carry the event and text fields back into tips.
func tipsOf(hits search.DocumentMatchCollection) ([]*tip.Tip, error) {
	tips := make([]*tip.Tip, 0, len(hits))
	for _, h := range hits {
		ev, _ := h.Fields[fieldEvent].(string)
		t, err := tip.Unmarshal([]byte(ev))
		if err != nil {
			return nil, fmt.Errorf("index: tip %s: %w", h.ID, err)
		}
		t.Text, _ = h.Fields[fieldText].(string)
		tips = append(tips, t)
	}
	return tips, nil
}

// ErrNotFound is returned by Get for an unknown id.
var ErrNotFound = errors.New("index: tip not found")

// receivedAt reads a stored date field.
func receivedAt(v any) time.Time {
	s, _ := v.(string)
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}
