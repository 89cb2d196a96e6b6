package desk

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/tip"
)

// facetValue is one countable choice of a facet on the search page.
type facetValue struct {
	Value, Label string
	Count        int
	Selected     bool
	Link         string // the search with this choice toggled
}

type facetGroup struct {
	Name, Label string
	Values      []facetValue
}

type histBar struct {
	Label      string
	Count      int
	Link       string
	X, Y, W, H float64
}

type searchData struct {
	frame
	Q          url.Values
	Text       string
	Sort       string
	From, To   string
	Result     *index.Result
	Facets     []facetGroup
	Bars       []histBar
	BarsMax    int
	Prev, Next string
	Pages      int
	Export     string
	Filters    []facetValue // the active filters, each with a link that removes it
}

// searchFacets are the facets the page shows, in order, with the labels of their values.
var searchFacets = []struct {
	facet, param, label string
	name                func(string) string
}{
	{index.FacetCategory, "category", "类别", func(v string) string { return tip.Category(v).Name() }},
	{index.FacetOffice, "office", "办理单位", func(v string) string { return tip.Office(v).Name() }},
	{index.FacetSource, "source", "来源渠道", sourceName},
	{index.FacetStatus, "status", "处理状态", statusName},
	{index.FacetAttachments, "attachments", "附件", func(v string) string { return map[string]string{"yes": "有附件", "no": "无附件"}[v] }},
	{index.FacetFlags, "flag", "待办", flagName},
}

func (p *pages) searchPage(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	data := searchData{frame: p.frame(w, r, "检索"), Q: v, Text: v.Get("q"), Sort: v.Get("sort"), From: v.Get("from"), To: v.Get("to")}
	res, q, err := p.api.runSearch(r)
	if err != nil {
		var de *deskError
		if errors.As(err, &de) && de.status == http.StatusBadRequest {
			data.Error = "检索条件有误：" + de.msg
			p.render(w, http.StatusBadRequest, "search.html", data)
			return
		}
		p.fail(w, r, err)
		return
	}
	data.Result = res
	for _, f := range searchFacets {
		g := facetGroup{Name: f.param, Label: f.label}
		for value, n := range res.Facets[f.facet] {
			selected := v.Get(f.param) == value
			link := with(v, f.param, value)
			if selected {
				link = with(v, f.param, "")
			}
			g.Values = append(g.Values, facetValue{Value: value, Label: cmp.Or(f.name(value), value), Count: n, Selected: selected, Link: link})
		}
		slices.SortFunc(g.Values, func(a, b facetValue) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Value, b.Value)) })
		if g.Values != nil {
			data.Facets = append(data.Facets, g)
		}
		if sel := v.Get(f.param); sel != "" {
			data.Filters = append(data.Filters, facetValue{Label: f.label + "：" + cmp.Or(f.name(sel), sel), Link: with(v, f.param, "")})
		}
	}
	if v.Get("entity") != "" {
		data.Filters = append(data.Filters, facetValue{Label: "涉及：" + v.Get("entity"), Link: with(v, "entity", "")})
	}
	data.Bars, data.BarsMax = histogram(res.Histogram, v)
	pages := int((res.Total + uint64(q.Size) - 1) / uint64(q.Size))
	data.Pages = min(pages, index.MaxOffset/q.Size+1)
	if q.Page > 1 {
		data.Prev = with(v, "page", strconv.Itoa(q.Page-1))
	}
	if q.Page < data.Pages {
		data.Next = with(v, "page", strconv.Itoa(q.Page+1))
	}
	exp := url.Values{}
	for k, vals := range v {
		if k != "page" && k != "size" {
			exp[k] = vals
		}
	}
	data.Export = "/api/v1/export?" + exp.Encode()
	p.render(w, http.StatusOK, "search.html", data)
}

// with returns the search link with param set to value (removed when empty), back on page 1
// unless param is the page.
func with(v url.Values, param, value string) string { return "/search?" + withParam(v, param, value) }

func withParam(v url.Values, param, value string) string {
	c := url.Values{}
	for k, vals := range v {
		c[k] = slices.Clone(vals)
	}
	c.Del("page")
	if value == "" {
		c.Del(param)
	} else {
		c.Set(param, value)
	}
	return c.Encode()
}

// histogram lays the date histogram out as SVG bars in a 600×120 box, each linking to the
// search narrowed to its period.
func histogram(buckets []index.Bucket, v url.Values) ([]histBar, int) {
	most := 0
	for _, b := range buckets {
		most = max(most, b.Count)
	}
	if len(buckets) == 0 {
		return nil, 0
	}
	width := 600.0 / float64(len(buckets))
	var out []histBar
	for i, b := range buckets {
		h := 0.0
		if most > 0 {
			h = 100 * float64(b.Count) / float64(most)
		}
		label := b.Start.Format("2006年1月")
		if b.Weekly() {
			label = b.Start.Format("1月2日") + "起一周"
		}
		c := url.Values{}
		for k, vals := range v {
			c[k] = vals
		}
		c.Del("page")
		c.Set("from", b.Start.Format(time.DateOnly))
		c.Set("to", b.End.AddDate(0, 0, -1).Format(time.DateOnly))
		out = append(out, histBar{Label: label, Count: b.Count, Link: "/search?" + c.Encode(),
			X: float64(i)*width + 1, Y: 110 - h, W: max(width-2, 1), H: h})
	}
	return out, most
}

type entityData struct {
	frame
	Entity  string
	Kind    string
	Value   string
	Result  *index.Result
	Offices []facetValue
	More    string
}

// entityPage lists every tip the user may see that names one entity (?e=kind:value).
func (p *pages) entityPage(w http.ResponseWriter, r *http.Request) {
	e := r.URL.Query().Get("e")
	kind, value, ok := strings.Cut(e, ":")
	if !ok || value == "" || utf8.RuneCountInString(e) > 300 {
		p.fail(w, r, refusal(http.StatusBadRequest, "实体应写作 类型:值，如 phone:13800138000"))
		return
	}
	q := r.Clone(r.Context())
	q.URL.RawQuery = url.Values{"entity": {e}, "sort": {"date"}, "size": {"100"}}.Encode()
	res, _, err := p.api.runSearch(q)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := entityData{frame: p.frame(w, r, entityKindName(kind)+" "+value), Entity: e, Kind: kind, Value: value, Result: res,
		More: "/search?" + url.Values{"entity": {e}}.Encode()}
	for o, n := range res.Facets[index.FacetOffice] {
		d.Offices = append(d.Offices, facetValue{Value: o, Label: tip.Office(o).Name(), Count: n})
	}
	slices.SortFunc(d.Offices, func(a, b facetValue) int { return b.Count - a.Count })
	p.render(w, http.StatusOK, "entity.html", d)
}
