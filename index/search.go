package index

import (
	"context"
	"errors"
	"fmt"
	"html"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tipline/tipline/internal/tip"
)

// Query is an analyst's search.
type Query struct {
	Text     string // query string: plain words and phrases search the text; field:value also works
	Category tip.Category
	Office   tip.Office
	Source   tip.Source
	Flag     string    // only tips with this flag (FlagManualTranscription, FlagReview)
	From, To time.Time // received_at range, inclusive; zero means open
	Sort     string    // "relevance" (default when Text is set) or "date" (newest first)
	Page     int       // from 1
	Size     int       // hits per page
	// Entity keeps the tips that name this entity, "kind:value" (phone:13800138000).
	Entity string
	Status string // new, assigned, investigating, closed
	// Attachments keeps tips with files ("yes") or without ("no"); empty: both.
	Attachments string
	// NoFacets skips counting: for look-ups that only want the hits (related tips, export).
	NoFacets bool
	// Offices scopes the search to the tips routed to these offices (the user's); nil: all.
	// It is part of the query itself, so hits, totals and facets never count another office.
	Offices []tip.Office
	// User is who asks: searches with patterns are limited per user (costlyLimiter).
	User string
}

// Limits on paging, so one request cannot ask for the whole index.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// MaxOffset is the deepest a search pages: (Page-1)*Size may not pass it.
	MaxOffset = 10000
)

// maxQueryRunes bounds a query: a longer one is not a search but a paste.
const maxQueryRunes = 1000

// ErrBadQuery wraps problems with the query itself (shown to the analyst).
var ErrBadQuery = errors.New("bad query")

// Result is one page of hits with counted facets over all matching tips.
type Result struct {
	Total  uint64                    `json:"total"`
	Page   int                       `json:"page"`
	Size   int                       `json:"size"`
	Hits   []Hit                     `json:"hits"`
	Facets map[string]map[string]int `json:"facets"`
	// Histogram counts the matching tips per week (a range up to half a year) or per month.
	Histogram []Bucket `json:"histogram"`
	TookMS    float64  `json:"took_ms"`
	// Partial says that no tip holds every word whole, and these tips hold parts of them.
	Partial bool `json:"partial,omitempty"`
}

// Bucket is one bar of the date histogram: tips received in [Start, End).
type Bucket struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Count int       `json:"count"`
}

// Weekly reports whether the bar is a week (else a month).
func (b Bucket) Weekly() bool { return b.End.Sub(b.Start) < 8*24*time.Hour }

// Hit is one matching tip. Snippet is HTML: the tip's own text is escaped and the matched words
// are wrapped in <mark>.
type Hit struct {
	ID         string    `json:"id"`
	Category   string    `json:"category"`
	Office     string    `json:"office"`
	Source     string    `json:"source"`
	Flags      []string  `json:"flags,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
	Score      float64   `json:"score"`
	Snippet    string    `json:"snippet"`
}

// ErrTooCostly is a search that ran past its time (searchBudget): its patterns stood for too
// many of the index's words, or it matched too much. It is a bad query: narrowing it helps.
var ErrTooCostly = fmt.Errorf("%w: the search took too long; write the words more precisely or narrow the period", ErrBadQuery)

// ErrBusy is a search with patterns refused because its analyst, or all analysts together,
// already run as many of them as they may (costlyLimiter).
var ErrBusy = errors.New("too many searches with patterns at once; wait for the last one to finish")

// searchBudget is how long one search may run: a pattern that stands for many words, nearly all
// of them other offices', is walked through the whole dictionary.
const searchBudget = 10 * time.Second

// Search runs q. Each word must be found whole: its every bigram (自媒体: 自媒 and 媒体) in the
// tip. When no tip has them all, the search is run again with any part of each word enough, and
// the result says it is partial: analysts type words run together (裸聊敲诈), which no tip
// holds as written.
//
// Everything the search reads of the index is seen through q.Offices (scope.go): the hits, and
// also the counts that rank them and the words a pattern stands for, so that no answer to an
// analyst depends on another office's tips.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	began := time.Now()
	if err := q.Normalize(); err != nil {
		return nil, err
	}
	filters, any := q.filters()
	if !any {
		return &Result{Page: q.Page, Size: q.Size, Hits: []Hit{}, Facets: map[string]map[string]int{}}, nil
	}
	var words query.Query
	var loose bool
	if text := strings.TrimSpace(q.Text); text != "" && singleHan(text) == "" {
		var err error
		if words, loose, err = parseWords(q.Text, true); err != nil {
			return nil, err
		}
		if hasPattern(words) {
			release, ok := x.costly.acquire(q.User)
			if !ok {
				return nil, ErrBusy
			}
			defer release()
		}
	}
	budget := x.budget
	if budget == 0 {
		budget = searchBudget
	}
	sctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	// The read lock is held for the whole search (words, walk, counting, the page's fields): a
	// rebuild's swap waits for it before it closes the index this search reads.
	x.mu.RLock()
	defer x.mu.RUnlock()
	snap, err := snapshot(x.b)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	x.facets.keep(snap.Segments())
	sc, err := newScope(sctx, snap, &x.facets, q.Offices)
	if err != nil {
		return nil, err
	}
	res, err := x.searchIn(sctx, scopedReader{snap, sc}, q, words, loose, filters, began)
	if err != nil && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		return nil, ErrTooCostly
	}
	return res, err
}

// filters are q's filters as queries; false when q's offices are none at all.
func (q *Query) filters() ([]query.Query, bool) {
	var filters []query.Query
	for field, v := range map[string]string{fieldCategory: string(q.Category), fieldOffice: string(q.Office), fieldSource: string(q.Source), fieldFlags: q.Flag, fieldEntities: q.Entity, fieldStatus: q.Status, fieldAttached: q.Attachments} {
		if v != "" {
			tq := bleve.NewTermQuery(v)
			tq.SetField(field)
			filters = append(filters, tq)
		}
	}
	if q.Offices != nil {
		scope := make([]query.Query, 0, len(q.Offices))
		for _, o := range q.Offices {
			tq := bleve.NewTermQuery(string(o))
			tq.SetField(fieldOffice)
			scope = append(scope, tq)
		}
		switch len(scope) {
		case 0: // no office at all: nothing
			return nil, false
		case 1: // a term, which Bleve can intersect with the words' terms (see flatten)
			filters = append(filters, scope[0])
		default:
			filters = append(filters, bleve.NewDisjunctionQuery(scope...))
		}
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		yes := true
		dq := bleve.NewDateRangeInclusiveQuery(q.From, q.To, &yes, &yes)
		dq.SetField(fieldReceivedAt)
		filters = append(filters, dq)
	}
	return filters, true
}

// parseWords parses a query's text with every word required; whole makes each word need all
// its parts (everyPart), and loose reports whether that changed anything.
func parseWords(text string, whole bool) (words query.Query, loose bool, err error) {
	words, err = bleve.NewQueryStringQuery(allTerms(text)).Parse()
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrBadQuery, err)
	}
	return words, whole && everyPart(words), nil
}

// searchIn runs q, whose text parsed into words, on r.
func (x *Index) searchIn(ctx context.Context, r scopedReader, q Query, words query.Query, loose bool, filters []query.Query, began time.Time) (*Result, error) {
	m := x.b.Mapping()
	if c := singleHan(q.Text); c != "" {
		return x.run(ctx, r, q, singleCharQuery(c, fieldText), nil, filters, began)
	}
	if words == nil {
		return x.run(ctx, r, q, nil, nil, filters, began)
	}
	e := &expander{r: r, m: m}
	words, err := e.expand(words)
	if err != nil {
		return nil, err
	}
	var parts []query.Query
	if !strings.Contains(q.Text, "~") { // fuzzy words are left to Bleve
		parts = flatten(words, m)
	}
	res, err := x.run(ctx, r, q, words, parts, filters, began)
	if err != nil || res.Total > 0 || !loose {
		return res, err
	}
	if words, _, err = parseWords(q.Text, false); err != nil {
		return nil, err
	}
	if words, err = e.expand(words); err != nil {
		return nil, err
	}
	if part, err := x.run(ctx, r, q, words, nil, filters, began); err != nil || part.Total > 0 {
		if part != nil {
			part.Partial = true
		}
		return part, err
	}
	return res, nil
}

// hasPattern reports whether a parsed query holds a wildcard, a regular expression, a prefix or
// a fuzzy word: what costs a walk through the index's words.
func hasPattern(q query.Query) bool {
	switch v := q.(type) {
	case *query.BooleanQuery:
		return slices.ContainsFunc([]query.Query{v.Must, v.Should, v.MustNot, v.Filter}, func(c query.Query) bool { return c != nil && hasPattern(c) })
	case *query.ConjunctionQuery:
		return slices.ContainsFunc(v.Conjuncts, hasPattern)
	case *query.DisjunctionQuery:
		return slices.ContainsFunc(v.Disjuncts, hasPattern)
	case *query.WildcardQuery, *query.RegexpQuery, *query.PrefixQuery, *query.FuzzyQuery:
		return true
	case *query.MatchQuery:
		return v.Fuzziness != 0 || autoFuzzy(v)
	}
	return false
}

// everyPart makes every word of a parsed query find only the tips that hold all its parts (Bleve
// matches any of them), and reports whether it changed any.
func everyPart(q query.Query) bool {
	changed := false
	switch v := q.(type) {
	case *query.MatchQuery:
		v.SetOperator(query.MatchQueryOperatorAnd)
		changed = true
	case *query.BooleanQuery:
		for _, c := range []query.Query{v.Must, v.Should, v.MustNot, v.Filter} {
			if c != nil && everyPart(c) {
				changed = true
			}
		}
	case *query.ConjunctionQuery:
		for _, c := range v.Conjuncts {
			changed = everyPart(c) || changed
		}
	case *query.DisjunctionQuery:
		for _, c := range v.Disjuncts {
			changed = everyPart(c) || changed
		}
	}
	return changed
}

// flatten turns a query whose words are all required into the terms (and lone characters, see
// singleCharQuery) they all need, or nil when it is not such a query. Bleve intersects a
// conjunction of terms as bitmaps before it walks them (its "conjunction" optimization), where
// nested conjunctions leapfrog through each term's postings: a rare word beside a common one
// (砍头息 催收) then costs its few hits instead of the common word's many.
func flatten(q query.Query, m mapping.IndexMapping) []query.Query {
	var terms []query.Query // terms, and the disjunctions that find lone characters
	var add func(q query.Query) bool
	add = func(q query.Query) bool {
		switch v := q.(type) {
		case *query.BooleanQuery:
			return v.Should == nil && v.MustNot == nil && v.Filter == nil && v.Must != nil && add(v.Must)
		case *query.ConjunctionQuery:
			for _, c := range v.Conjuncts {
				if !add(c) {
					return false
				}
			}
			return true
		case *query.TermQuery:
			terms = append(terms, v)
			return true
		case *query.MatchQuery:
			if v.Operator != query.MatchQueryOperatorAnd || v.Fuzziness != 0 || v.Prefix != 0 {
				return false
			}
			field := v.FieldVal
			if field == "" {
				field = m.DefaultSearchField()
			}
			name := v.Analyzer
			if name == "" {
				name = m.AnalyzerNameForPath(field)
			}
			analyzer := m.AnalyzerNamed(name)
			if analyzer == nil {
				return false
			}
			tokens := analyzer.Analyze([]byte(v.Match))
			if len(tokens) == 0 {
				return false
			}
			for _, tok := range tokens {
				// A lone character (图 of P图) is a term only where the tip has it alone too;
				// written beside other characters (P图威胁) it is inside their bigrams.
				if r := string(tok.Term); singleHan(r) != "" {
					terms = append(terms, singleCharQuery(r, field))
					continue
				}
				tq := bleve.NewTermQuery(string(tok.Term))
				tq.SetField(field)
				tq.SetBoost(v.Boost())
				terms = append(terms, tq)
			}
			return true
		}
		return false
	}
	if !add(q) {
		return nil
	}
	return terms
}

// compose joins the words and the filters into the query walked. Terms go into one conjunction,
// whose postings Bleve intersects before it walks them; what is not a term (a date range,
// several offices, a lone character's bigrams) filters that conjunction's hits unscored, as a
// bitmap. Without any term it is the conjunction itself: a filter alone would be checked
// against every tip. With nothing at all, every tip matches.
func compose(words query.Query, parts, filters []query.Query) query.Query {
	var must, rest []query.Query
	if parts == nil && words != nil {
		must = append(must, words)
	}
	for _, c := range slices.Concat(parts, filters) {
		if _, ok := c.(*query.TermQuery); ok {
			must = append(must, c)
		} else {
			rest = append(rest, c)
		}
	}
	if len(must) == 0 {
		must, rest = rest, nil
	}
	var whole query.Query
	switch len(must) {
	case 0:
		return bleve.NewMatchAllQuery()
	case 1:
		whole = must[0]
	default:
		whole = bleve.NewConjunctionQuery(must...)
	}
	if len(rest) == 0 {
		return whole
	}
	b := query.NewBooleanQuery([]query.Query{whole}, nil, nil)
	if len(rest) == 1 {
		b.AddFilter(rest[0])
	} else {
		b.AddFilter(bleve.NewConjunctionQuery(rest...))
	}
	return b
}

// run searches r for the tips that match words (nil: every tip) and every filter. parts, when
// not nil, are the words flattened (see flatten).
func (x *Index) run(ctx context.Context, r scopedReader, q Query, words query.Query, parts, filters []query.Query, began time.Time) (*Result, error) {
	whole := compose(words, parts, filters)
	idx, snap := x.b, r.IndexSnapshot
	byDate := q.Sort == "date"
	rank := q.Page * q.Size
	if byDate { // ranked after the walk, from the hits by week
		rank = 0
	}
	hs, top, err := walk(ctx, r, idx.Mapping(), whole, rank, byDate || !q.NoFacets, 0)
	if err != nil {
		return nil, err
	}
	if byDate {
		if top, err = newTopN(snap, q.Page*q.Size, true); err != nil {
			return nil, err
		}
		if err := newestFirst(hs, &x.facets, top); err != nil {
			return nil, err
		}
	}
	out := &Result{Total: hs.total, Page: q.Page, Size: q.Size, Hits: []Hit{}, Facets: map[string]map[string]int{}}
	// The page's fields are read while the facets are counted.
	var fetched error
	var wg sync.WaitGroup
	if ranked := top.best(); len(ranked) > (q.Page-1)*q.Size {
		wg.Go(func() { out.Hits, fetched = pageHits(ctx, idx, snap, ranked[(q.Page-1)*q.Size:], words) })
	}
	var counted error
	if !q.NoFacets {
		buckets := histogramBuckets(q.From, q.To, time.Now())
		periods := map[string]bool{}
		for _, b := range buckets {
			periods[monthCode(b.Start)], periods[weekCode(b.Start)] = true, true
		}
		var counts map[string]int
		counts, counted = countCodes(hs, &x.facets, func(code string) bool {
			return periods[code] || !strings.HasPrefix(code, "w") && !strings.HasPrefix(code, "m")
		})
		out.Histogram = countFacets(counts, out.Facets, buckets)
	}
	wg.Wait()
	if err := errors.Join(fetched, counted); err != nil {
		return nil, err
	}
	out.TookMS = float64(time.Since(began).Microseconds()) / 1000
	return out, nil
}

// snapshot opens a point-in-time reader of a scorch index (which every index of tipline is).
func snapshot(idx bleve.Index) (*scorch.IndexSnapshot, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		r.Close()
		return nil, fmt.Errorf("index: search: a %T is not a scorch index", r)
	}
	return snap, nil
}

// pageHits reads the fields of one page of ranked hits and, when the search has words, marks
// them in a snippet of the text. It is a second small search, limited to the page, because
// marking needs every term's positions, which would cost more than the walk over all hits.
func pageHits(ctx context.Context, idx bleve.Index, snap *scorch.IndexSnapshot, ranked []rankedHit, words query.Query) ([]Hit, error) {
	ids := make([]string, 0, len(ranked))
	for _, h := range ranked {
		id, err := snap.ExternalID(bindex.NewIndexInternalID(nil, h.num))
		if err != nil {
			return nil, fmt.Errorf("index: search: %w", err)
		}
		ids = append(ids, id)
	}
	found, err := fetchHits(ctx, idx, ids, words)
	if err != nil {
		return nil, err
	}
	if words != nil && len(found) < len(ids) { // changed since the walk: shown unmarked
		var rest []string
		for _, id := range ids {
			if found[id] == nil {
				rest = append(rest, id)
			}
		}
		more, err := fetchHits(ctx, idx, rest, nil)
		if err != nil {
			return nil, err
		}
		maps.Copy(found, more)
	}
	out := make([]Hit, 0, len(ids))
	for i, id := range ids {
		d := found[id]
		if d == nil { // deleted since the walk
			continue
		}
		hit := Hit{ID: id, Score: ranked[i].score, ReceivedAt: receivedAt(d.Fields[fieldReceivedAt])}
		hit.Category, _ = d.Fields[fieldCategory].(string)
		hit.Office, _ = d.Fields[fieldOffice].(string)
		hit.Source, _ = d.Fields[fieldSource].(string)
		switch f := d.Fields[fieldFlags].(type) { // one value comes back as a string
		case string:
			hit.Flags = []string{f}
		case []any:
			for _, v := range f {
				if s, ok := v.(string); ok {
					hit.Flags = append(hit.Flags, s)
				}
			}
		}
		if frags := d.Fragments[fieldText]; len(frags) > 0 {
			hit.Snippet = frags[0] // the html highlighter escapes the text around its <mark>s
		} else {
			text, _ := d.Fields[fieldText].(string)
			hit.Snippet = html.EscapeString(truncate(text, 160))
		}
		out = append(out, hit)
	}
	return out, nil
}

// fetchHits loads the listed tips' fields, with the words marked when words is not nil.
func fetchHits(ctx context.Context, idx bleve.Index, ids []string, words query.Query) (map[string]*search.DocumentMatch, error) {
	var q query.Query = bleve.NewDocIDQuery(ids)
	if words != nil {
		q = bleve.NewConjunctionQuery(q, words)
	}
	req := bleve.NewSearchRequestOptions(q, len(ids), 0, false)
	req.Fields = []string{fieldCategory, fieldOffice, fieldSource, fieldReceivedAt, fieldText, fieldFlags}
	if words != nil {
		req.Highlight = bleve.NewHighlightWithStyle("html")
		req.Highlight.AddField(fieldText)
	}
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	out := make(map[string]*search.DocumentMatch, len(res.Hits))
	for _, h := range res.Hits {
		out[h.ID] = h
	}
	return out, nil
}

// Normalize checks q and fills in what it leaves open (page 1, DefaultPageSize, date order
// without words), as Search does first; a caller that pages calls it to learn the page's size.
func (q *Query) Normalize() error {
	switch {
	case q.Category != "" && !q.Category.Valid():
		return fmt.Errorf("%w: unknown category %q", ErrBadQuery, q.Category)
	case q.Office != "" && !q.Office.Valid():
		return fmt.Errorf("%w: unknown office %q", ErrBadQuery, q.Office)
	case q.Source != "" && !q.Source.Valid():
		return fmt.Errorf("%w: unknown source %q", ErrBadQuery, q.Source)
	case q.Flag != "" && q.Flag != FlagManualTranscription && q.Flag != FlagReview:
		return fmt.Errorf("%w: unknown flag %q", ErrBadQuery, q.Flag)
	case q.Sort != "" && q.Sort != "relevance" && q.Sort != "date":
		return fmt.Errorf("%w: sort must be relevance or date", ErrBadQuery)
	case !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From):
		return fmt.Errorf("%w: to is before from", ErrBadQuery)
	case utf8.RuneCountInString(q.Text) > maxQueryRunes:
		return fmt.Errorf("%w: the query is longer than %d characters", ErrBadQuery, maxQueryRunes)
	case q.Status != "" && !slices.Contains(tip.Statuses(), q.Status):
		return fmt.Errorf("%w: unknown status %q", ErrBadQuery, q.Status)
	case q.Entity != "" && !strings.Contains(q.Entity, ":"):
		return fmt.Errorf("%w: entity is kind:value, such as phone:13800138000", ErrBadQuery)
	case q.Attachments != "" && q.Attachments != "yes" && q.Attachments != "no":
		return fmt.Errorf("%w: attachments is yes or no", ErrBadQuery)
	case q.Page < 0 || q.Size < 0:
		return fmt.Errorf("%w: page and size count from 1", ErrBadQuery)
	}
	if q.Sort == "" && strings.TrimSpace(q.Text) == "" {
		q.Sort = "date"
	}
	if q.Page < 1 {
		q.Page = 1
	}
	if q.Size < 1 {
		q.Size = DefaultPageSize
	}
	q.Size = min(q.Size, MaxPageSize)
	if (q.Page-1)*q.Size > MaxOffset {
		return fmt.Errorf("%w: page too deep; narrow the search", ErrBadQuery)
	}
	return nil
}

// countFacets sorts the counts of fieldFacets' codes into facets by name and the histogram's
// bars.
func countFacets(counts map[string]int, facets map[string]map[string]int, buckets []Bucket) []Bucket {
	periods := map[string]int{}
	for code, n := range counts {
		switch name, value := facetName(code); name {
		case "week", "month":
			periods[value] = n
		case "":
		default:
			if facets[name] == nil {
				facets[name] = map[string]int{}
			}
			facets[name][value] = n
		}
	}
	for i, b := range buckets {
		code := monthCode(b.Start)
		if b.Weekly() {
			code = weekCode(b.Start)
		}
		buckets[i].Count = periods[code]
	}
	return buckets
}

// allTerms makes every word of a query required, as analysts expect of a search box: two
// words find the tips that have both. Words already marked + or -, and phrases in quotes, are
// kept as they are written.
func allTerms(text string) string {
	var b strings.Builder
	inQuote, start := false, true
	for _, r := range text {
		switch {
		case inQuote:
			if r == '"' {
				inQuote = false
			}
		case unicode.IsSpace(r):
			start = true
		case start:
			start = false
			if r != '+' && r != '-' {
				b.WriteByte('+')
			}
			inQuote = r == '"'
		case r == '"':
			inQuote = true
		}
		b.WriteRune(r)
	}
	return b.String()
}

// histogramBuckets splits the searched period into weeks (Monday to Monday, China time) when it
// spans up to 26 weeks and into calendar months otherwise; an open end stops at now, an open
// start a year before the end. At most 60 bars, the newest kept.
func histogramBuckets(from, to, now time.Time) []Bucket {
	if to.IsZero() || to.After(now) {
		to = now
	}
	if from.IsZero() {
		from = to.AddDate(-1, 0, 0)
	}
	if from.After(to) {
		return nil
	}
	from, to = from.In(tip.China), to.In(tip.China)
	var start time.Time
	var next func(time.Time) time.Time
	if to.Sub(from) <= 26*7*24*time.Hour {
		start = weekOf(from)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	} else {
		start = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, tip.China)
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	}
	var out []Bucket
	for b := start; !b.After(to); b = next(b) {
		out = append(out, Bucket{Start: b, End: next(b)})
	}
	if len(out) > 60 {
		out = out[len(out)-60:]
	}
	return out
}

func truncate(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	i := 0
	for n := 0; n < runes; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + "…"
}

// singleHan returns s if it is one Han character (surrounding space aside), else "".
func singleHan(s string) string {
	s = strings.TrimSpace(s)
	r := []rune(s)
	if len(r) == 1 && unicode.Is(unicode.Han, r[0]) {
		return s
	}
	return ""
}

// singleCharQuery finds one Han character. The cjk analyzer indexes Han text as overlapping
// bigrams, so a lone character is in the index only inside them: it matches the bigrams that
// begin or end with it (and the character itself, which the analyzer keeps where it stands
// alone).
func singleCharQuery(r, field string) query.Query {
	quoted := regexp.QuoteMeta(r)
	first := bleve.NewRegexpQuery(quoted + ".")
	first.SetField(field)
	last := bleve.NewRegexpQuery("." + quoted)
	last.SetField(field)
	alone := bleve.NewTermQuery(r)
	alone.SetField(field)
	return bleve.NewDisjunctionQuery(first, last, alone)
}
