package desk

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tipline/tipline/internal/tip"
)

// chart is a server-rendered SVG bar chart: no script, no library, nothing but numbers from
// the index in it.
type chart struct {
	Title  string
	Height float64
	Bars   []chartBar
	Legend []chartBar
}

type chartBar struct {
	Label    string
	Value    string
	X, Y     float64
	W, H     float64
	Class    string
	LabelX   float64
	Segments []chartBar // a stacked bar's parts
}

// weeklyChart: one row per office, one bar per period, all on one scale.
func weeklyChart(st *Stats) chart {
	most := 1
	for _, o := range st.Offices {
		for _, n := range o.Counts {
			most = max(most, n)
		}
	}
	c := chart{Title: "各单位每周（月）线索数"}
	const rowH, labelW, plotW = 28.0, 150.0, 560.0
	for i, o := range st.Offices {
		y := float64(i) * rowH
		row := chartBar{Label: tip.Office(o.Office).Name(), Value: fmt.Sprint(o.Total), Y: y}
		if n := len(o.Counts); n > 0 {
			bw := plotW / float64(n)
			for j, v := range o.Counts {
				h := (rowH - 6) * float64(v) / float64(most)
				row.Segments = append(row.Segments, chartBar{X: labelW + float64(j)*bw, Y: y + rowH - 3 - h, W: max(bw-1, 1), H: h,
					Label: st.Periods[j].Start.In(tip.China).Format("1月2日"), Value: fmt.Sprint(v)})
			}
		}
		c.Bars = append(c.Bars, row)
	}
	c.Height = float64(len(st.Offices))*rowH + 16
	// Label about every fourth period along the bottom.
	if n := len(st.Periods); n > 0 {
		bw := plotW / float64(n)
		for j := 0; j < n; j += max(1, n/6) {
			c.Legend = append(c.Legend, chartBar{Label: st.Periods[j].Start.In(tip.China).Format("1月2日"), X: labelW + float64(j)*bw, Y: c.Height - 3})
		}
	}
	return c
}

// mixChart: one 100% stacked bar per office, a segment per category.
func mixChart(st *Stats) chart {
	c := chart{Title: "各单位线索类别构成"}
	const rowH, labelW, plotW = 24.0, 150.0, 560.0
	for i, cat := range tip.AllCategories() {
		c.Legend = append(c.Legend, chartBar{Label: cat.Name(), Class: "c" + fmt.Sprint(i), X: float64(i%4) * 180, Y: float64(i/4) * 18})
	}
	for i, o := range st.Offices {
		y := float64(i) * rowH
		row := chartBar{Label: tip.Office(o.Office).Name(), Value: fmt.Sprint(o.Total), Y: y}
		x := labelW
		for j, cat := range tip.AllCategories() {
			n := o.Categories[string(cat)]
			if n == 0 || o.Total == 0 {
				continue
			}
			w := plotW * float64(n) / float64(o.Total)
			row.Segments = append(row.Segments, chartBar{X: x, Y: y + 3, W: w, H: rowH - 6, Class: "c" + fmt.Sprint(j),
				Label: cat.Name(), Value: fmt.Sprintf("%d（%.0f%%）", n, 100*float64(n)/float64(o.Total))})
			x += w
		}
		c.Bars = append(c.Bars, row)
	}
	c.Height = float64(len(st.Offices)) * rowH
	return c
}

func countChart(title string, counts map[string]int, name func(string) string) chart {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(counts[b]-counts[a], cmp.Compare(a, b)) })
	return countChartOrdered(title, counts, keys, name)
}

// countChartOrdered: horizontal bars in the given order.
func countChartOrdered(title string, counts map[string]int, keys []string, name func(string) string) chart {
	most := 1
	for _, k := range keys {
		most = max(most, counts[k])
	}
	c := chart{Title: title}
	const rowH, labelW, plotW = 24.0, 150.0, 480.0
	for i, k := range keys {
		y := float64(i) * rowH
		w := plotW * float64(counts[k]) / float64(most)
		c.Bars = append(c.Bars, chartBar{Label: name(k), Value: fmt.Sprint(counts[k]), X: labelW, Y: y + 3, W: w, H: rowH - 6, LabelX: labelW + w + 6})
	}
	c.Height = float64(len(keys)) * rowH
	return c
}
