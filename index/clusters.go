package index

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tipline/tipline/internal/tip"
)

// maxFacetTerms bounds the counted values a Bleve facet returns: the categories, offices,
// channels and statuses, and every week and month of seventy years.
const maxFacetTerms = 5000

// Cluster is an entity named by several tips: how organised gangs show up.
type Cluster struct {
	Kind    string         `json:"kind"`
	Value   string         `json:"value"`
	Tips    int            `json:"tips"`
	Offices map[string]int `json:"offices"` // tips per office
}

// Clusters returns the entities (phones, accounts, apps, sites, cards; not amounts) shared by
// the most tips received in [from, to], within offices (nil: all), most shared first.
func (x *Index) Clusters(ctx context.Context, from, to time.Time, offices []tip.Office, n int) ([]Cluster, error) {
	scope := func(extra ...query.Query) query.Query {
		must := append([]query.Query{}, extra...)
		if !from.IsZero() || !to.IsZero() {
			yes := true
			dq := bleve.NewDateRangeInclusiveQuery(from, to, &yes, &yes)
			dq.SetField(fieldReceivedAt)
			must = append(must, dq)
		}
		if offices != nil {
			var any []query.Query
			for _, o := range offices {
				tq := bleve.NewTermQuery(string(o))
				tq.SetField(fieldOffice)
				any = append(any, tq)
			}
			if len(any) == 0 {
				any = append(any, bleve.NewMatchNoneQuery())
			}
			must = append(must, bleve.NewDisjunctionQuery(any...))
		}
		if len(must) == 0 {
			return bleve.NewMatchAllQuery()
		}
		return bleve.NewConjunctionQuery(must...)
	}
	// Ask for more terms than wanted: amounts, which link nothing, are dropped afterwards.
	req := bleve.NewSearchRequestOptions(scope(), 0, 0, false)
	req.AddFacet(fieldEntities, bleve.NewFacetRequest(fieldEntities, n*4+20))
	res, err := x.current().SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("index: clusters: %w", err)
	}
	var out []Cluster
	for _, term := range res.Facets[fieldEntities].Terms.Terms() {
		kind, value, _ := strings.Cut(term.Term, ":")
		if !linkingKinds[kind] || term.Count < 2 {
			continue
		}
		tq := bleve.NewTermQuery(term.Term)
		tq.SetField(fieldEntities)
		per := bleve.NewSearchRequestOptions(scope(tq), 0, 0, false)
		per.AddFacet(fieldFacets, bleve.NewFacetRequest(fieldFacets, maxFacetTerms))
		pr, err := x.current().SearchInContext(ctx, per)
		if err != nil {
			return nil, fmt.Errorf("index: clusters: %w", err)
		}
		c := Cluster{Kind: kind, Value: value, Tips: term.Count, Offices: map[string]int{}}
		for _, o := range pr.Facets[fieldFacets].Terms.Terms() {
			if facet, office := facetName(o.Term); facet == fieldOffice {
				c.Offices[office] = o.Count
			}
		}
		out = append(out, c)
		if len(out) == n {
			break
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Tips != out[j].Tips {
			return out[i].Tips > out[j].Tips
		}
		return len(out[i].Offices) > len(out[j].Offices)
	})
	return out, nil
}

// clusters answers GET /api/v1/clusters?from=&to=&size=: the entities shared by the most tips
// in the period (default: the last 30 days), within the user's offices.
func (a *API) clusters(w http.ResponseWriter, r *http.Request) {
	out, _, _, err := a.runClusters(r)
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"clusters": out})
}

// runClusters reads the period and size, finds the clusters within the user's offices and
// audits the look.
func (a *API) runClusters(r *http.Request) (out []Cluster, from, to time.Time, err error) {
	v := r.URL.Query()
	if from, to, err = parsePeriod(v); err != nil {
		return nil, from, to, refusal(http.StatusBadRequest, err.Error())
	}
	if from.IsZero() && to.IsZero() {
		from = time.Now().Add(-30 * 24 * time.Hour)
	}
	size := 20
	if s := v.Get("size"); s != "" {
		if size, err = strconv.Atoi(s); err != nil || size < 1 || size > 100 {
			return nil, from, to, refusal(http.StatusBadRequest, "size is a number from 1 to 100")
		}
	}
	out, err = a.idx.Clusters(r.Context(), from, to, userOffices(r), size)
	if err != nil {
		a.log.Error("clusters failed", "err", err)
		return nil, from, to, refusal(http.StatusInternalServerError, "clusters failed")
	}
	if err := a.audit(r, "clusters", "", map[string]any{"filters": v.Encode(), "results": len(out)}); err != nil {
		return nil, from, to, errAuditDown
	}
	if out == nil {
		out = []Cluster{}
	}
	return out, from, to, nil
}

// Related returns, for each linking entity of t, up to 20 other tips within offices (nil: all)
// that name it too, newest first, with how many there are in all.
func (x *Index) Related(ctx context.Context, t *tip.Tip, offices []tip.Office) ([]Related, error) {
	var out []Related
	seen := map[string]bool{}
	for _, e := range t.Entities {
		key := e.Kind + ":" + e.Value
		if linkingKinds[e.Kind] && !seen[key] {
			seen[key] = true
			out = append(out, Related{Kind: e.Kind, Value: e.Value, Hits: []Hit{}})
		}
	}
	// One look-up per entity, side by side: a gang's number named by thousands of tips costs
	// its own time, not the sum of all of them.
	errs := make([]error, len(out))
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			rel := &out[i]
			key := rel.Kind + ":" + rel.Value
			res, err := x.Search(ctx, Query{Entity: key, Offices: offices, Sort: "date", Size: 21, NoFacets: true})
			if err != nil {
				errs[i] = fmt.Errorf("index: related tips of %s: %w", key, err)
				return
			}
			for _, h := range res.Hits {
				if h.ID != t.ID && len(rel.Hits) < 20 {
					rel.Hits = append(rel.Hits, h)
				}
			}
			if res.Total > 0 {
				rel.Total = res.Total - 1 // the tip itself
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if out == nil {
		out = []Related{}
	}
	return out, nil
}
