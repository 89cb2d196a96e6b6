package index

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tipline/tipline/internal/tip"
)

// linkingKinds are the entities that tie tips to one gang; amounts are too common to.
var linkingKinds = map[string]bool{"phone": true, "url": true, "domain": true, "app": true, "account": true,
	"qq": true, "wechat": true, "bank_card": true}

// Links reports whether entities of this kind tie tips together (related tips, clusters).
func Links(kind string) bool { return linkingKinds[kind] }

// Related is, for one entity of a tip, the other tips within the offices asked for that name it
// too.
type Related struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
	Total uint64 `json:"total"`
	Hits  []Hit  `json:"hits"`
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
