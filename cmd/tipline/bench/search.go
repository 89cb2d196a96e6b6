package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tipline/tipline/classify"
	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/pipeline"
	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/tip"
)

// benchSearch measures the analysts' side of the index at scale: it fills an index with
// --search-tips synthetic tips (or reuses the one in --data-dir when it holds as many), then
// times a two-term search with every facet and highlights, the same search by a district's
// analyst, and the related-tips lookup, and reports the index's size on disk and the heap.
func benchSearch(ctx context.Context, b Config, dir string, out io.Writer) error {
	_, err := runSearchBench(ctx, b, dir, out)
	return err
}

// searchReport is what one search bench measured.
type searchReport struct {
	dir        string
	tips       uint64 // documents in the index
	built      bool   // false: an existing index was reused
	buildTime  time.Duration
	batch      int
	gen        genStats // of the tips generated, when built
	warmUp     int
	search     []time.Duration
	searchHits []uint64
	byPair     map[string][]time.Duration
	pairHits   map[string]uint64
	scoped     []time.Duration
	scopedHits []uint64
	related    []time.Duration
	// Of the related lookups: entities looked up, entities named by other tips too, tips with
	// at least one related tip, and the other tips per linking entity.
	relEntities, relLinked, relTips int
	relTotals                       []uint64
	diskBytes                       int64 // of the index's current snapshot
	folderBytes                     int64 // of every file in its folder, merged-away segments included
	heapInuse, heapAfterGC          uint64
	rss, peakRSS                    int64 // of the process, from /proc; 0: unknown
}

// searchPairs are two-term queries as analysts type them: a word of the crime and a word of
// how it went, in the tips' own vocabulary.
var searchPairs = []string{
	"裸聊 敲诈", "录屏 通讯录", "不雅视频 转账", "裸聊 木马", "砍头息 催收", "714高炮 逾期", "验资费 放款",
	"套路贷 借条", "网贷 逾期", "爆通讯录 P图", "呼死你 骚扰", "催收 恐吓", "职业打假 赔偿", "差评 索赔",
	"公关费 删帖", "自媒体 曝光", "有偿删帖 负面", "水军 造谣", "控评 差评", "刷单 返利",
}

func runSearchBench(ctx context.Context, b Config, dir string, out io.Writer) (*searchReport, error) {
	n := b.SearchTips // at least 1: Config.Validate
	queries := max(b.Queries, 1)
	batch := max(b.SearchBatch, 1)
	r := &searchReport{dir: pipeline.Layout{Dir: dir}.Index(), batch: batch, byPair: map[string][]time.Duration{}, pairHits: map[string]uint64{}}
	idx, err := index.Open(r.dir)
	if err != nil {
		return nil, err
	}
	defer idx.Close()
	have, err := idx.Count()
	if err != nil {
		return nil, err
	}
	switch {
	case have > 0 && idx.Outdated():
		return nil, fmt.Errorf("bench --search: %s was built with an older mapping (its facets and sorting would not be measured): remove it or choose another --data-dir", r.dir)
	case have >= uint64(n):
		fmt.Fprintf(out, "tipline bench --search: reusing the index in %s (%d tips); build skipped\n", r.dir, have)
	case have > 0:
		return nil, fmt.Errorf("bench --search: %s holds %d tips, fewer than --search-tips %d (an interrupted build?): remove it or choose another --data-dir", r.dir, have, n)
	default:
		fmt.Fprintf(out, "tipline bench --search: building %d synthetic tips into %s, batches of %d\n", n, r.dir, batch)
		t0 := time.Now()
		if r.gen, err = buildSearchIndex(ctx, idx, n, batch, out); err != nil {
			return nil, err
		}
		r.buildTime = time.Since(t0)
		r.built = true
		runtime.GC() // the generator's bookkeeping is garbage now: keep it out of the heap figure
	}
	if r.tips, err = idx.Count(); err != nil {
		return nil, err
	}

	rng := rand.New(rand.NewPCG(2026, 1))
	r.warmUp = max(5, min(100, queries/10))
	districts := tip.Offices()[1:]
	fmt.Fprintf(out, "measuring: %d calls of each kind after %d to warm up\n", queries, r.warmUp)

	// 1. Two-term search, every facet and highlights: the analyst's search page.
	for i := range r.warmUp + queries {
		pair := searchPairs[i%len(searchPairs)]
		t0 := time.Now()
		res, err := idx.Search(ctx, index.Query{Text: pair, Size: 20})
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", pair, err)
		}
		if i >= r.warmUp {
			r.search = append(r.search, d)
			r.searchHits = append(r.searchHits, res.Total)
			r.byPair[pair] = append(r.byPair[pair], d)
			r.pairHits[pair] = res.Total
		}
	}
	// 2. The same searches by an analyst of one district, who sees only that office's tips.
	for i := range r.warmUp + queries {
		pair := searchPairs[i%len(searchPairs)]
		office := districts[(i/len(searchPairs))%len(districts)]
		t0 := time.Now()
		res, err := idx.Search(ctx, index.Query{Text: pair, Size: 20, Offices: []tip.Office{office}})
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("search %q in %s: %w", pair, office, err)
		}
		if i >= r.warmUp {
			r.scoped = append(r.scoped, d)
			r.scopedHits = append(r.scopedHits, res.Total)
		}
	}
	// 3. Related tips of tips picked at random, fetched by id beforehand.
	sample, err := sampleTips(ctx, idx, rng, r.warmUp+queries)
	if err != nil {
		return nil, err
	}
	for i, t := range sample {
		t0 := time.Now()
		rel, err := idx.Related(ctx, t, nil)
		d := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("related of %s: %w", t.ID, err)
		}
		if i < r.warmUp {
			continue
		}
		r.related = append(r.related, d)
		linked := false
		for _, e := range rel {
			r.relEntities++
			r.relTotals = append(r.relTotals, e.Total)
			if e.Total > 0 {
				r.relLinked++
				linked = true
			}
		}
		if linked {
			r.relTips++
		}
	}

	// 4. Size on disk and the heap.
	live, folder := idx.DiskUsage()
	r.diskBytes, r.folderBytes = int64(live), int64(folder)
	if live == 0 { // not a scorch index: the folder is all there is
		if r.diskBytes, err = dirSize(r.dir); err != nil {
			return nil, err
		}
		r.folderBytes = r.diskBytes
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heapInuse = ms.HeapInuse
	runtime.GC()
	runtime.ReadMemStats(&ms)
	r.heapAfterGC = ms.HeapInuse
	r.rss, r.peakRSS = processRSS()
	return r, r.print(out)
}

// sampleTips picks n tips at random through the index, as an analyst opens them: a random day
// of the last two years, a random tip of that day's first page, then the tip itself by id.
func sampleTips(ctx context.Context, idx *index.Index, rng *rand.Rand, n int) ([]*tip.Tip, error) {
	now := time.Now()
	var out []*tip.Tip
	for misses := 0; len(out) < n; {
		day := now.Add(-time.Duration(rng.Int64N(int64(sample.TipSpan))))
		res, err := idx.Search(ctx, index.Query{From: day.Add(-24 * time.Hour), To: day, Sort: "date", Size: 20})
		if err != nil {
			return nil, fmt.Errorf("sample tips: %w", err)
		}
		if len(res.Hits) == 0 {
			if misses++; misses > 100*n+1000 {
				return nil, errors.New("sample tips: the index has no tips of the last two years")
			}
			continue
		}
		t, err := idx.Get(ctx, res.Hits[rng.IntN(len(res.Hits))].ID)
		if err != nil {
			return nil, fmt.Errorf("sample tips: %w", err)
		}
		out = append(out, t)
	}
	return out, nil
}

func dirSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // a segment merged away while we walked
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			size += info.Size()
		}
		return nil
	})
	return size, err
}

func (r *searchReport) print(out io.Writer) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(out, "\ntipline bench --search: %d tips in %s\n", r.tips, r.dir)
	if r.built {
		g := r.gen
		fmt.Fprintf(out, "  build: %s, %.0f tips/s (batches of %d; generating and classifying included)\n",
			r.buildTime.Round(time.Second), float64(g.tips)/r.buildTime.Seconds(), r.batch)
		fmt.Fprintf(out, "  tips: %.0f runes on average, %d%% with attachments; %.1f linking entities per tip, %d distinct, %d%% of them named by one tip only; tips per shared entity: median %d, p90 %d, p99 %d, max %d\n",
			float64(g.runes)/float64(g.tips), share(g.attached, g.tips), float64(g.entities)/float64(g.tips), g.distinct, share(g.single, g.distinct),
			g.sharedP50, g.sharedP90, g.sharedP99, g.sharedMax)
		fmt.Fprintf(out, "  categories: %s\n", g.categories)
	} else {
		fmt.Fprintf(out, "  build: skipped, the index was reused\n")
	}
	fmt.Fprintln(w, "\tcalls\tmean\tp50\tp90\tp99\tmax\tmedian hits\t")
	row := func(name string, ds []time.Duration, hits string) {
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, len(ds), meanDuration(ds), pct(ds, 50), pct(ds, 90), pct(ds, 99), pct(ds, 100), hits)
	}
	row("  search: 2 terms, all facets, highlights", r.search, strconv.FormatUint(medianUint(r.searchHits), 10))
	row("  same, by one district's analyst", r.scoped, strconv.FormatUint(medianUint(r.scopedHits), 10))
	row("  related tips of a tip (all offices)", r.related, "-")
	if err := w.Flush(); err != nil {
		return err
	}
	// The slowest queries, to see what the time goes with.
	type pairStat struct {
		pair string
		p50  time.Duration
	}
	var pairs []pairStat
	for p, ds := range r.byPair {
		s := slices.Clone(ds)
		slices.Sort(s)
		pairs = append(pairs, pairStat{p, s[len(s)/2]})
	}
	slices.SortFunc(pairs, func(a, b pairStat) int { return cmp.Compare(b.p50, a.p50) })
	var parts []string
	for _, p := range pairs[:min(3, len(pairs))] {
		parts = append(parts, fmt.Sprintf("%q %s (%d hits)", p.pair, p.p50.Round(100*time.Microsecond), r.pairHits[p.pair]))
	}
	if len(pairs) > 0 {
		last := pairs[len(pairs)-1]
		parts = append(parts, fmt.Sprintf("fastest %q %s (%d hits)", last.pair, last.p50.Round(100*time.Microsecond), r.pairHits[last.pair]))
	}
	fmt.Fprintf(out, "  slowest searches by p50: %s\n", strings.Join(parts, ", "))
	lookups := max(len(r.related), 1)
	fmt.Fprintf(out, "  related: %.1f linking entities per tip looked up; %d%% of them named by other tips too (median %d others, max %d); %d%% of the tips have related tips\n",
		float64(r.relEntities)/float64(lookups), share(r.relLinked, r.relEntities), medianUint(r.relTotals), slices.Max(append(r.relTotals, 0)), share(r.relTips, lookups))
	perTip := float64(r.diskBytes) / float64(max(r.tips, 1))
	fmt.Fprintf(out, "  index on disk: %s, %s per tip", formatBytes(float64(r.diskBytes)), formatBytes(perTip))
	if r.folderBytes > r.diskBytes+r.diskBytes/50 {
		fmt.Fprintf(out, " (the folder holds %s: segments merged away, deleted after a later write)", formatBytes(float64(r.folderBytes)))
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "  heap in use after the measurements: %s (after a GC: %s)", formatBytes(float64(r.heapInuse)), formatBytes(float64(r.heapAfterGC)))
	if r.rss > 0 {
		// Scorch maps its segments: they count in the resident set, not in the heap.
		fmt.Fprintf(out, "; process resident %s, peak %s (mapped index files included)", formatBytes(float64(r.rss)), formatBytes(float64(r.peakRSS)))
	}
	fmt.Fprintln(out)
	build := "reused index"
	if r.built {
		build = fmt.Sprintf("built at %.0f tips/s", float64(r.gen.tips)/r.buildTime.Seconds())
	}
	fmt.Fprintf(out, "summary: %d tips (%s); search p50 %s p99 %s; district search p50 %s p99 %s; related p50 %s p99 %s; %s per tip on disk; heap %s\n",
		r.tips, build, pct(r.search, 50), pct(r.search, 99), pct(r.scoped, 50), pct(r.scoped, 99), pct(r.related, 50), pct(r.related, 99),
		formatBytes(perTip), formatBytes(float64(r.heapInuse)))
	return nil
}

// processRSS reads the resident set size of this process and its peak from /proc (Linux).
func processRSS() (rss, peak int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(b)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return rss, peak
}

// buildSearchIndex generates n tips and puts them into idx in batches, the generator running
// ahead of the index by a batch or two.
func buildSearchIndex(ctx context.Context, idx *index.Index, n, batch int, out io.Writer) (genStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	var generator sync.WaitGroup
	defer generator.Wait() // after cancel, which runs first
	defer cancel()
	cls := classify.New(classify.DefaultRules(), classify.DefaultGazetteer())
	g := sample.NewTips(n, time.Now(), cls.Analyze)
	var counted genCounter
	batches := make(chan []*tip.Tip, 2)
	generator.Go(func() {
		defer close(batches)
		for done := 0; done < n; {
			k := min(batch, n-done)
			tips := make([]*tip.Tip, k)
			for i := range tips {
				tips[i] = g.Next()
				counted.add(tips[i])
			}
			done += k
			select {
			case batches <- tips:
			case <-ctx.Done():
				return
			}
		}
	})
	start := time.Now()
	last, lastAt := 0, start
	done := 0
	for tips := range batches {
		refused, err := idx.Put(tips)
		if err != nil {
			return genStats{}, err
		}
		for i, err := range refused {
			return genStats{}, fmt.Errorf("tip %d refused: %w", done+i, err)
		}
		done += len(tips)
		if done/50000 > last/50000 || done == n {
			now := time.Now()
			fmt.Fprintf(out, "  %8d tips  %8s  %5.0f tips/s (last %d: %.0f tips/s)\n", done, now.Sub(start).Round(time.Second),
				float64(done)/now.Sub(start).Seconds(), done-last, float64(done-last)/now.Sub(lastAt).Seconds())
			last, lastAt = done, now
		}
		if err := ctx.Err(); err != nil {
			return genStats{}, err
		}
	}
	return counted.stats(), nil
}

// genStats describes the generated tips.
type genStats struct {
	tips, runes, entities, attached            int
	distinct, single                           int // single: named by one tip only
	sharedP50, sharedP90, sharedP99, sharedMax int
	categories                                 string
}

// genCounter counts what the generated tips hold: their length, categories, attachments, and
// how many tips name each linking entity (the gangs' numbers and accounts that link tips).
type genCounter struct {
	tips, runes, attached, entities int
	entityTips                      map[string]int
	cats                            map[tip.Category]int
}

func (c *genCounter) add(t *tip.Tip) {
	if c.entityTips == nil {
		c.entityTips, c.cats = map[string]int{}, map[tip.Category]int{}
	}
	c.tips++
	c.runes += utf8.RuneCountInString(t.Text)
	c.cats[t.Verdict.Category]++
	if len(t.Attachments) > 0 {
		c.attached++
	}
	seen := map[string]bool{}
	for _, e := range t.Entities {
		key := e.Kind + ":" + e.Value
		if index.Links(e.Kind) && !seen[key] {
			seen[key] = true
			c.entityTips[key]++
			c.entities++
		}
	}
}

func (c *genCounter) stats() genStats {
	s := genStats{tips: c.tips, runes: c.runes, entities: c.entities, attached: c.attached, distinct: len(c.entityTips)}
	counts := make([]int, 0, len(c.entityTips))
	for _, n := range c.entityTips {
		if n == 1 {
			s.single++
			continue
		}
		counts = append(counts, n)
	}
	slices.Sort(counts)
	if len(counts) > 0 {
		at := func(p float64) int { return counts[int(float64(len(counts)-1)*p)] }
		s.sharedP50, s.sharedP90, s.sharedP99, s.sharedMax = at(0.5), at(0.9), at(0.99), counts[len(counts)-1]
	}
	var parts []string
	for _, cat := range tip.AllCategories() {
		parts = append(parts, fmt.Sprintf("%s %d%%", cat, share(c.cats[cat], c.tips)))
	}
	s.categories = strings.Join(parts, ", ")
	c.entityTips = nil
	return s
}
