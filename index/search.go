package index

import (
	"context"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tipline/tipline/internal/tip"
)

// Query is an analyst's search.
type Query struct {
	Text     string // query string: plain words and phrases search the text; field:value also works
	Category tip.Category
	Office   tip.Office
	Source   tip.Source
	Flag     string    // only tips with this flag (FlagManualTranscription)
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
}

// Limits on paging, so one request cannot ask for the whole index.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	maxOffset       = 10000
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

// Search runs q.
func (x *Index) Search(ctx context.Context, q Query) (*Result, error) {
	if err := q.normalize(); err != nil {
		return nil, err
	}
	// Without text every tip matches, narrowed by the filters; "match all" is added at the end
	// only if there is no filter, as walking every document costs what a filter does not.
	var must []query.Query
	if r := singleHan(q.Text); r != "" {
		must = append(must, singleCharQuery(r))
	} else if strings.TrimSpace(q.Text) != "" {
		qs := bleve.NewQueryStringQuery(allTerms(q.Text))
		if _, err := qs.Parse(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadQuery, err)
		}
		must = append(must, qs)
	}
	for field, v := range map[string]string{fieldCategory: string(q.Category), fieldOffice: string(q.Office), fieldSource: string(q.Source), fieldFlags: q.Flag, fieldEntities: q.Entity, fieldStatus: q.Status, fieldAttached: q.Attachments} {
		if v != "" {
			tq := bleve.NewTermQuery(v)
			tq.SetField(field)
			must = append(must, tq)
		}
	}
	if q.Offices != nil {
		scope := make([]query.Query, 0, len(q.Offices))
		for _, o := range q.Offices {
			tq := bleve.NewTermQuery(string(o))
			tq.SetField(fieldOffice)
			scope = append(scope, tq)
		}
		if len(scope) == 0 { // no office at all: nothing
			return &Result{Page: q.Page, Size: q.Size, Hits: []Hit{}, Facets: map[string]map[string]int{}}, nil
		}
		must = append(must, bleve.NewDisjunctionQuery(scope...))
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		yes := true
		dq := bleve.NewDateRangeInclusiveQuery(q.From, q.To, &yes, &yes)
		dq.SetField(fieldReceivedAt)
		must = append(must, dq)
	}
	var whole query.Query
	switch len(must) {
	case 0:
		whole = bleve.NewMatchAllQuery()
	case 1:
		whole = must[0]
	default:
		whole = bleve.NewConjunctionQuery(must...)
	}
	// The read lock is held for the whole search (ranking, counting, highlighting): a rebuild's
	// swap waits for it before it closes the index this search reads.
	x.mu.RLock()
	defer x.mu.RUnlock()
	idx := x.b
	// Counting and ranking walk the same hits but read different doc values; on a machine with
	// more than one core they run side by side, which halves the wait on large result sets.
	buckets := histogramBuckets(q.From, q.To, time.Now())
	var facets *search.FacetResult
	counted := make(chan error, 1)
	if q.NoFacets {
		counted <- nil
	} else {
		go func() {
			req := bleve.NewSearchRequestOptions(whole, 0, 0, false)
			req.AddFacet(fieldFacets, bleve.NewFacetRequest(fieldFacets, maxFacetTerms))
			res, err := idx.SearchInContext(ctx, req)
			if err == nil {
				facets = res.Facets[fieldFacets]
			}
			counted <- err
		}()
	}
	req := bleve.NewSearchRequestOptions(whole, q.Size, (q.Page-1)*q.Size, false)
	req.Fields = []string{fieldCategory, fieldOffice, fieldSource, fieldReceivedAt, fieldText, fieldFlags}
	// Equal scores go newest first, so pages stay in one order across rebuilds. No tie-break
	// on the id: it would load every hit's id, where the time is one doc value.
	if q.Sort == "date" {
		req.SortBy([]string{"-" + fieldSortKey})
	} else {
		req.SortBy([]string{"-_score", "-" + fieldSortKey})
	}
	res, err := idx.SearchInContext(ctx, req)
	if cerr := <-counted; err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("index: search: %w", err)
	}
	out := &Result{Total: res.Total, Page: q.Page, Size: q.Size, Hits: []Hit{}, Facets: map[string]map[string]int{},
		TookMS: float64(res.Took.Microseconds()) / 1000}
	var snippets map[string]string
	if strings.TrimSpace(q.Text) != "" { // filters alone mark nothing
		if snippets, err = highlight(ctx, idx, whole, res.Hits); err != nil {
			return nil, err
		}
	}
	for _, h := range res.Hits {
		hit := Hit{ID: h.ID, Score: h.Score, ReceivedAt: receivedAt(h.Fields[fieldReceivedAt])}
		hit.Category, _ = h.Fields[fieldCategory].(string)
		hit.Office, _ = h.Fields[fieldOffice].(string)
		hit.Source, _ = h.Fields[fieldSource].(string)
		if f, ok := h.Fields[fieldFlags].(string); ok { // one value comes back as a string
			hit.Flags = []string{f}
		}
		if snip, ok := snippets[h.ID]; ok {
			hit.Snippet = snip // the html highlighter escapes the text around its <mark>s
		} else {
			text, _ := h.Fields[fieldText].(string)
			hit.Snippet = html.EscapeString(truncate(text, 160))
		}
		out.Hits = append(out.Hits, hit)
	}
	if facets != nil {
		out.Histogram = countFacets(facets.Terms.Terms(), out.Facets, buckets)
	}
	return out, nil
}

// highlight marks the matched words in the text of one page of hits. It is a second search,
// limited to those hits, because highlighting needs every term's positions, and reading them
// for all the hits of a broad query costs more than the search itself.
func highlight(ctx context.Context, idx bleve.Index, q query.Query, hits search.DocumentMatchCollection) (map[string]string, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	req := bleve.NewSearchRequestOptions(bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), q), len(ids), 0, false)
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.AddField(fieldText)
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: highlight: %w", err)
	}
	out := map[string]string{}
	for _, h := range res.Hits {
		if frags := h.Fragments[fieldText]; len(frags) > 0 {
			out[h.ID] = frags[0]
		}
	}
	return out, nil
}

func (q *Query) normalize() error {
	switch {
	case q.Category != "" && !q.Category.Valid():
		return fmt.Errorf("%w: unknown category %q", ErrBadQuery, q.Category)
	case q.Office != "" && !q.Office.Valid():
		return fmt.Errorf("%w: unknown office %q", ErrBadQuery, q.Office)
	case q.Source != "" && !q.Source.Valid():
		return fmt.Errorf("%w: unknown source %q", ErrBadQuery, q.Source)
	case q.Flag != "" && q.Flag != FlagManualTranscription:
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
	if (q.Page-1)*q.Size > maxOffset {
		return fmt.Errorf("%w: page too deep; narrow the search", ErrBadQuery)
	}
	return nil
}

// maxFacetTerms bounds the counted values returned: the categories, offices, channels and
// statuses, and every week and month of seventy years.
const maxFacetTerms = 5000

// countFacets sorts fieldFacets' counts into facets by name and the histogram's bars.
func countFacets(terms []*search.TermFacet, facets map[string]map[string]int, buckets []Bucket) []Bucket {
	periods := map[string]int{}
	for _, t := range terms {
		switch name, value := facetName(t.Term); name {
		case "week", "month":
			periods[value] = t.Count
		case "":
		default:
			if facets[name] == nil {
				facets[name] = map[string]int{}
			}
			facets[name][value] = t.Count
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
func singleCharQuery(r string) query.Query {
	quoted := regexp.QuoteMeta(r)
	first := bleve.NewRegexpQuery(quoted + ".")
	first.SetField(fieldText)
	last := bleve.NewRegexpQuery("." + quoted)
	last.SetField(fieldText)
	alone := bleve.NewTermQuery(r)
	alone.SetField(fieldText)
	return bleve.NewDisjunctionQuery(first, last, alone)
}
