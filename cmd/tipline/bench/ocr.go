package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tipline/tipline/ingest/ocr"
	"github.com/tipline/tipline/internal/sample"
)

// benchPage is one synthetic scan with the text it was rendered from.
type benchPage struct {
	path, text string
	degraded   bool
}

// benchOCR measures OCR on scans rendered from the sample letters:
//   - one page at a time, seconds per page and character error rate of the Tesseract command
//     run by hand on each file and of tipline's reader (inspection, preprocessing, the same
//     command), apart for clean and degraded scans: on clean scans tipline does no
//     preprocessing, so their difference is its machinery alone;
//   - pages per minute with --ocr-workers workers through the whole pipeline (mail-room upload,
//     archive, Kafka, OCR stage, classification, index) against as many hand-run Tesseracts side
//     by side.
//
// Each run alternates the hand-run and tipline passes so that the machine's drift hits both.
func benchOCR(ctx context.Context, b Config, dir string, tr *tracker, out io.Writer) error {
	pages, err := renderBenchPages(filepath.Join(dir, "pages"), b.OCRPages, b.OCRScans)
	if err != nil {
		return err
	}
	tess := ocr.Tesseract{Langs: ocr.DefaultLangs}
	if err := tess.Check(ctx); err != nil {
		return err
	}
	reader, err := ocr.NewReader(ocr.ReaderConfig{Tesseract: tess})
	if err != nil {
		return err
	}
	// The commands run by hand on each page: the (chi_sim+eng), and the first language
	// alone, which is what tipline runs first.
	r := &ocrReport{tess: tess, byHand: []ocr.Tesseract{tess}, kinds: map[bool]*ocrKind{}, pages: len(pages)}
	if first, _, several := strings.Cut(tess.Langs, "+"); several {
		r.byHand = append(r.byHand, ocr.Tesseract{Langs: first})
	}
	for _, d := range []bool{false, true} {
		r.kinds[d] = &ocrKind{}
		for range len(r.byHand) + 1 {
			r.kinds[d].m = append(r.kinds[d].m, &measure{})
		}
	}
	r.rawPPM = make([][]float64, len(r.byHand))
	r.parRatios = make([][]float64, len(r.byHand))
	for run := range max(b.Runs, 1) {
		for _, p := range pages {
			if err := r.onePage(ctx, reader, p, run == 0); err != nil {
				return err
			}
		}
		for _, st := range r.kinds {
			for _, m := range st.m {
				m.endRun()
			}
		}
		if err := r.sideBySide(ctx, b, filepath.Join(dir, fmt.Sprintf("run%d", run)), tr, pages); err != nil {
			return err
		}
	}
	return r.print(out, b)
}

// ocrReport is what benchOCR measured.
type ocrReport struct {
	tess      ocr.Tesseract
	byHand    []ocr.Tesseract   // the commands run by hand
	kinds     map[bool]*ocrKind // by kind of scan: degraded or clean
	pages     int               // in a run
	rawPPM    [][]float64       // pages/min of each command by hand, by run
	parRatios [][]float64       // tipline's time over each command's, by run
	tipPPM    []float64         // tipline's pages/min, by run
}

// ocrKind is the measures of one kind of scan (clean, degraded): one per command by hand, and
// tipline's last.
type ocrKind struct {
	pages int
	m     []*measure
}

// onePage reads one page with each command by hand and with tipline's reader, one at a time;
// the first run also measures the error rates.
func (r *ocrReport) onePage(ctx context.Context, reader *ocr.Reader, p benchPage, first bool) error {
	st := r.kinds[p.degraded]
	if first {
		st.pages++
	}
	for i, t := range r.byHand {
		t0 := time.Now()
		tsv, err := t.Command(ctx, p.path).Output()
		if err != nil {
			return fmt.Errorf("tesseract %s: %w", p.path, err)
		}
		st.m[i].add(time.Since(t0).Seconds())
		if first {
			read, err := ocr.ParseTSV(tsv)
			if err != nil {
				return err
			}
			st.m[i].cer = append(st.m[i].cer, ocr.CER(p.text, pageText(read)))
		}
	}
	t0 := time.Now()
	read, err := reader.Read(ctx, p.path)
	if err != nil {
		return fmt.Errorf("read %s: %w", p.path, err)
	}
	tm := st.m[len(r.byHand)]
	tm.add(time.Since(t0).Seconds())
	if first {
		var texts []string
		for _, pg := range read {
			texts = append(texts, pg.Text)
		}
		tm.cer = append(tm.cer, ocr.CER(p.text, strings.Join(texts, "\n")))
	}
	return nil
}

// sideBySide reads every page with the workers side by side: each command by hand, then the
// whole pipeline in dir.
func (r *ocrReport) sideBySide(ctx context.Context, b Config, dir string, tr *tracker, pages []benchPage) error {
	var rawWalls []time.Duration
	for _, t := range r.byHand {
		wall, err := handRunParallel(ctx, t, pages, b.OCRWorkers)
		if err != nil {
			return err
		}
		rawWalls = append(rawWalls, wall)
	}
	tipWall, err := pipelineOCR(ctx, b, dir, tr, pages)
	if err != nil {
		return err
	}
	r.tipPPM = append(r.tipPPM, float64(len(pages))/tipWall.Minutes())
	for i, wall := range rawWalls {
		r.rawPPM[i] = append(r.rawPPM[i], float64(len(pages))/wall.Minutes())
		r.parRatios[i] = append(r.parRatios[i], tipWall.Seconds()/wall.Seconds())
	}
	return nil
}

// print writes the report.
func (r *ocrReport) print(out io.Writer, b Config) error {
	broker := "embedded broker"
	if len(b.Kafka) > 0 {
		broker = "Apache Kafka at " + strings.Join(b.Kafka, ",")
	}
	byHand := r.byHand
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "tipline bench --ocr: %d A4 pages at 300 dpi, %d runs, %s\t\n", r.pages, max(b.Runs, 1), broker)
	fmt.Fprintf(w, "  by hand: OMP_THREAD_LIMIT=1 tesseract %s (and with -l %s)\t\n", strings.Join(r.tess.Args("PAGE"), " "), byHand[len(byHand)-1].Langs)
	for _, degraded := range []bool{false, true} {
		st := r.kinds[degraded]
		if st.pages == 0 {
			continue
		}
		name := "clean scans (tipline only inspects them)"
		if degraded {
			name = "degraded scans (tipline despeckles and straightens)"
		}
		fmt.Fprintf(w, "%s: %d pages\t\n", name, st.pages)
		tm := st.m[len(byHand)]
		for i, t := range byHand {
			m := st.m[i]
			ratios := make([]float64, len(m.runs))
			for k := range m.runs {
				ratios[k] = tm.runs[k] / m.runs[k]
			}
			fmt.Fprintf(w, "  by hand -l %s: CER mean (max), median s/page\t%.2f%% (%.2f%%), %.2f s\n", t.Langs, 100*mean(m.cer), 100*maxFloat(m.cer), median(m.secs))
			fmt.Fprintf(w, "    tipline's time over it, per run (median)\t%s (%s)\n", percents(ratios), percent(median(ratios)))
		}
		fmt.Fprintf(w, "  tipline: CER mean (max), median s/page\t%.2f%% (%.2f%%), %.2f s\n", 100*mean(tm.cer), 100*maxFloat(tm.cer), median(tm.secs))
	}
	fmt.Fprintf(w, "%d workers side by side, all %d pages: tipline pipeline (upload → searchable), median\t%.1f pages/min\t(runs: %s)\n",
		b.OCRWorkers, r.pages, median(r.tipPPM), joinFloats(r.tipPPM, "%.1f"))
	for i, t := range byHand {
		fmt.Fprintf(w, "  by hand -l %s, median\t%.1f pages/min\t(runs: %s)\n", t.Langs, median(r.rawPPM[i]), joinFloats(r.rawPPM[i], "%.1f"))
		fmt.Fprintf(w, "    tipline's time over it, per run (median)\t%s (%s)\n", percents(r.parRatios[i]), percent(median(r.parRatios[i])))
	}
	return w.Flush()
}

// measure collects one way of reading the bench pages: seconds per page, the total of each run,
// and the first run's error rates.
type measure struct {
	secs, cer, runs []float64
	run             float64
}

func (m *measure) add(sec float64) {
	m.secs = append(m.secs, sec)
	m.run += sec
}

func (m *measure) endRun() {
	m.runs = append(m.runs, m.run)
	m.run = 0
}

func pageText(pages []ocr.Page) string {
	var texts []string
	for _, p := range pages {
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, "\n")
}

// renderBenchPages writes n pages: the sample letters in turn, each page in the next variant of
// those scans chooses ("clean", "degraded" or "all"), with its page number added so that no two
// pages are the same scan.
func renderBenchPages(dir string, n int, scans string) ([]benchPage, error) {
	r, err := sample.NewRenderer()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var variants []sample.Variant
	for _, v := range sample.Variants() {
		if scans == "all" || (scans == "degraded") == v.Degraded {
			variants = append(variants, v)
		}
	}
	if len(variants) == 0 { // Config.Validate lets only clean, degraded and all through
		return nil, fmt.Errorf("no scan variant is %q", scans)
	}
	letters := sample.Letters()
	var pages []benchPage
	for i := range n {
		l, v := letters[i%len(letters)], variants[i/len(letters)%len(variants)]
		lines := append(slices.Clone(l.Lines), fmt.Sprintf("（第%d页）", i+1))
		data, err := v.Encode(r.Page(lines))
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s-%s", i+1, l.Name, v.Name))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			return nil, err
		}
		pages = append(pages, benchPage{path: p, text: strings.Join(lines, "\n"), degraded: v.Degraded})
	}
	return pages, nil
}

// handRunParallel runs the Tesseract command on every page with workers processes at once.
func handRunParallel(ctx context.Context, t ocr.Tesseract, pages []benchPage, workers int) (time.Duration, error) {
	next := make(chan benchPage)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range workers {
		wg.Go(func() {
			for p := range next {
				if out, err := t.Command(ctx, p.path).CombinedOutput(); err != nil {
					errs <- fmt.Errorf("tesseract %s: %v: %s", p.path, err, out)
					return
				}
			}
		})
	}
	for _, p := range pages {
		next <- p
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
		return time.Since(t0), nil
	}
}

// pipelineOCR starts a fresh pipeline, warms it up with one page, then uploads every page as the
// mail room does and returns the time until the last one was searchable.
func pipelineOCR(ctx context.Context, b Config, dir string, tr *tracker, pages []benchPage) (time.Duration, error) {
	cfg := b.pipelineConfig(dir)
	cfg.OCRWorkers = b.OCRWorkers
	p, stop, err := startBenchPipeline(ctx, cfg, tr)
	if err != nil {
		return 0, err
	}
	defer stop()
	client := &http.Client{Timeout: time.Minute}
	warm, err := uploadLetter(ctx, client, p.Analyst, pages[0].path, []byte("warm-up"))
	if err != nil {
		return 0, err
	}
	if _, err := tr.waitAll(withTimeout(ctx, 2*time.Minute), []string{warm}); err != nil {
		return 0, fmt.Errorf("warm-up: %w", err)
	}
	t0 := time.Now()
	var ids []string
	for _, pg := range pages {
		id, err := uploadLetter(ctx, client, p.Analyst, pg.path, nil)
		if err != nil {
			return 0, err
		}
		ids = append(ids, id)
	}
	last, err := tr.waitAll(withTimeout(ctx, 30*time.Minute), ids)
	if err != nil {
		return 0, err
	}
	return last.Sub(t0), nil
}

// uploadLetter posts a scan to the mail-room endpoint; suffix makes the bytes differ from an
// earlier upload of the same page (the warm-up), which the intake would otherwise recognise.
func uploadLetter(ctx context.Context, client *http.Client, base, path string, suffix []byte) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/letters?name="+url.QueryEscape(filepath.Base(path)),
		bytes.NewReader(append(data, suffix...)))
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		Letters []struct{ ID, Status, Reason string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusCreated || len(body.Letters) != 1 {
		return "", fmt.Errorf("upload %s: %d %+v %v", filepath.Base(path), resp.StatusCode, body, err)
	}
	if l := body.Letters[0]; l.Status != "ocr_queued" {
		return "", fmt.Errorf("upload %s: not queued for OCR: %s", filepath.Base(path), l.Reason)
	}
	return body.Letters[0].ID, nil
}
