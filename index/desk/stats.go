package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

// Stats are the figures of the statistics page and GET /api/v1/stats, within the user's offices.
type Stats struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Total int       `json:"total"`
	// Periods are the histogram's bars (weeks up to half a year, else months), Offices' Counts
	// one per period.
	Periods    []index.Bucket `json:"periods"`
	Offices    []OfficeStats  `json:"offices"`
	Channels   map[string]int `json:"channels"`
	Categories map[string]int `json:"categories"`
	FirstView  FirstView      `json:"first_view"`
}

// OfficeStats are one office's tips in the period.
type OfficeStats struct {
	Office     string         `json:"office"`
	Total      int            `json:"total"`
	Counts     []int          `json:"counts"` // per period
	Categories map[string]int `json:"categories"`
	Channels   map[string]int `json:"channels"`
}

// FirstView is how long tips of the period waited from receipt until somebody first opened
// them, read from the audit log.
type FirstView struct {
	Viewed       int              `json:"viewed"`
	NotViewed    int              `json:"not_viewed"`
	MedianHours  float64          `json:"median_hours"`
	P90Hours     float64          `json:"p90_hours"`
	Offices      map[string]Waits `json:"offices"`
	Distribution []WaitBucket     `json:"distribution"`
}

// Waits are one office's first-view delays.
type Waits struct {
	Viewed      int     `json:"viewed"`
	MedianHours float64 `json:"median_hours"`
	P90Hours    float64 `json:"p90_hours"`
}

// WaitBucket counts tips first viewed within a range of delay.
type WaitBucket struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

var waitBuckets = []struct {
	label string
	upTo  time.Duration
}{
	{"1小时内", time.Hour}, {"1–4小时", 4 * time.Hour}, {"4–24小时", 24 * time.Hour},
	{"1–3天", 72 * time.Hour}, {"3–7天", 7 * 24 * time.Hour}, {"7天以上", 1 << 62},
}

// statistics computes Stats for [from, to] within offices (nil: all).
func (p *pages) statistics(ctx context.Context, from, to time.Time, offices []tip.Office) (*Stats, error) {
	st := &Stats{From: from, To: to, Channels: map[string]int{}, Categories: map[string]int{}}
	list := offices
	if list == nil {
		list = tip.Offices()
	}
	for _, o := range list {
		res, err := p.api.engine.Search(ctx, index.Query{Office: o, Offices: offices, From: from, To: to, Size: 1})
		if err != nil {
			return nil, fmt.Errorf("statistics of %s: %w", o, err)
		}
		os := OfficeStats{Office: string(o), Total: int(res.Total), Categories: res.Facets[index.FacetCategory], Channels: res.Facets[index.FacetSource]}
		for _, b := range res.Histogram {
			os.Counts = append(os.Counts, b.Count)
		}
		if st.Periods == nil {
			st.Periods = res.Histogram
		}
		for k, n := range os.Categories {
			st.Categories[k] += n
		}
		for k, n := range os.Channels {
			st.Channels[k] += n
		}
		st.Total += os.Total
		st.Offices = append(st.Offices, os)
	}
	fv, err := p.firstViews(ctx, from, to, offices)
	if err != nil {
		return nil, err
	}
	fv.NotViewed = max(st.Total-fv.Viewed, 0)
	st.FirstView = fv
	return st, nil
}

// firstViews reads the audit log for each tip's first "view" and measures it from the tip's
// receipt, for the tips received in [from, to] within offices.
func (p *pages) firstViews(ctx context.Context, from, to time.Time, offices []tip.Office) (FirstView, error) {
	fv := FirstView{Offices: map[string]Waits{}}
	for _, b := range waitBuckets {
		fv.Distribution = append(fv.Distribution, WaitBucket{Label: b.label})
	}
	if p.auditPath == "" {
		return fv, nil
	}
	first, err := p.views.since(p.auditPath, from)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fv, fmt.Errorf("statistics: %w", err)
	}
	ids := make([]string, 0, len(first))
	for id := range first {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	all := []time.Duration{}
	per := map[string][]time.Duration{}
	for chunk := range slices.Chunk(ids, 200) {
		tips, err := p.api.engine.GetMany(ctx, chunk)
		if err != nil {
			return fv, fmt.Errorf("statistics: %w", err)
		}
		for _, t := range tips {
			if t.ReceivedAt.Before(from) || (!to.IsZero() && t.ReceivedAt.After(to)) ||
				(offices != nil && !slices.Contains(offices, t.Office)) {
				continue
			}
			wait := max(first[t.ID].Sub(t.ReceivedAt), 0)
			all = append(all, wait)
			per[string(t.Office)] = append(per[string(t.Office)], wait)
			for i, b := range waitBuckets {
				if wait < b.upTo {
					fv.Distribution[i].Count++
					break
				}
			}
		}
	}
	fv.Viewed = len(all)
	fv.MedianHours, fv.P90Hours = quantileHours(all, 0.5), quantileHours(all, 0.9)
	for o, ws := range per {
		fv.Offices[o] = Waits{Viewed: len(ws), MedianHours: quantileHours(ws, 0.5), P90Hours: quantileHours(ws, 0.9)}
	}
	return fv, nil
}

// viewLog follows the audit log for each tip's first view. Each look at the statistics reads
// only the entries appended since the last one: the log grows with every search, and reading it
// whole each time would make the page slower every day.
type viewLog struct {
	mu    sync.Mutex
	read  audit.Cursor
	first map[string]time.Time
}

// since reads what was appended to the log at path and returns the tips first viewed at or
// after from.
func (v *viewLog) since(path string, from time.Time) (map[string]time.Time, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.first == nil {
		v.first = map[string]time.Time{}
	}
	var err error
	v.read, err = audit.ScanFrom(path, v.read, func(e audit.Entry) {
		if e.Action == "view" && e.Target != "" {
			if _, ok := v.first[e.Target]; !ok {
				v.first[e.Target] = e.Time
			}
		}
	})
	out := map[string]time.Time{}
	for id, at := range v.first {
		if !at.Before(from) {
			out[id] = at
		}
	}
	return out, err
}

func quantileHours(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(int(q*float64(len(s))), len(s)-1)
	return s[i].Hours()
}

// statsPeriod reads ?from=&to= (default: the last twelve weeks).
func statsPeriod(r *http.Request) (from, to time.Time, err error) {
	if from, to, err = parsePeriod(r.URL.Query()); err != nil {
		return from, to, refusal(http.StatusBadRequest, err.Error())
	}
	if to.IsZero() {
		to = time.Now()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -7*12)
	}
	if to.Before(from) {
		return from, to, refusal(http.StatusBadRequest, "to is before from")
	}
	return from, to, nil
}

func (p *pages) runStats(r *http.Request) (*Stats, error) {
	from, to, err := statsPeriod(r)
	if err != nil {
		return nil, err
	}
	st, err := p.statistics(r.Context(), from, to, userOffices(r))
	if err != nil {
		p.api.log.Error("statistics failed", "err", err)
		return nil, refusal(http.StatusInternalServerError, "statistics failed")
	}
	if err := p.api.audit(r, "stats", "", map[string]any{"filters": r.URL.Query().Encode()}); err != nil {
		return nil, errAuditDown
	}
	return st, nil
}

// statsAPI answers GET /api/v1/stats?from=&to=.
func (p *pages) statsAPI(w http.ResponseWriter, r *http.Request) {
	st, err := p.runStats(r)
	if err != nil {
		writeDeskError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

type statsData struct {
	frame
	Stats    *Stats
	From, To string
	Weekly   chart
	Mix      chart
	Channels chart
	Waits    chart
}

func (p *pages) statsPage(w http.ResponseWriter, r *http.Request) {
	st, err := p.runStats(r)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := statsData{frame: p.frame(w, r, "统计"), Stats: st,
		From: st.From.In(tip.China).Format(time.DateOnly), To: st.To.In(tip.China).Format(time.DateOnly)}
	d.Weekly = weeklyChart(st)
	d.Mix = mixChart(st)
	d.Channels = countChart("各渠道线索数", st.Channels, sourceName)
	var waits = map[string]int{}
	order := []string{}
	for _, b := range st.FirstView.Distribution {
		waits[b.Label] = b.Count
		order = append(order, b.Label)
	}
	d.Waits = countChartOrdered("从收到到首次查看", waits, order, func(s string) string { return s })
	p.render(w, http.StatusOK, "stats.html", d)
}
