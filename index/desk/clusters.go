package desk

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/tip"
)

// clusters answers GET /api/v1/clusters?from=&to=&size=: the entities shared by the most tips
// in the period (default: the last 30 days), within the user's offices.
func (a *api) clusters(w http.ResponseWriter, r *http.Request) {
	out, _, _, err := a.runClusters(r)
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"clusters": out})
}

// runClusters reads the period and size, finds the clusters within the user's offices and
// audits the look.
func (a *api) runClusters(r *http.Request) (out []index.Cluster, from, to time.Time, err error) {
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
	out, err = a.engine.Clusters(r.Context(), from, to, userOffices(r), size)
	if err != nil {
		a.log.Error("clusters failed", "err", err)
		return nil, from, to, refusal(http.StatusInternalServerError, "clusters failed")
	}
	if err := a.audit(r, "clusters", "", map[string]any{"filters": v.Encode(), "results": len(out)}); err != nil {
		return nil, from, to, errAuditDown
	}
	if out == nil {
		out = []index.Cluster{}
	}
	return out, from, to, nil
}

type clustersData struct {
	frame
	Clusters []index.Cluster
	From, To string
}

func (p *pages) clustersPage(w http.ResponseWriter, r *http.Request) {
	out, from, to, err := p.api.runClusters(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := clustersData{frame: p.frame(w, r, "线索聚类"), Clusters: out, From: from.In(tip.China).Format(time.DateOnly)}
	if !to.IsZero() {
		d.To = to.In(tip.China).Format(time.DateOnly)
	}
	p.render(w, http.StatusOK, "clusters.html", d)
}
