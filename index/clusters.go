package index

import (
	"context"
	"fmt"
	"sort"
	"strings"
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
