//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/sample"
	"github.com/tipline/tipline/internal/tip"
)

// letterLines are the sample letters of internal/sample, by name.
func letterLines(t *testing.T, name string) []string {
	t.Helper()
	for _, l := range sample.Letters() {
		if l.Name == name {
			return l.Lines
		}
	}
	t.Fatalf("no sample letter %s", name)
	return nil
}

func getTip(t *testing.T, base, id string) *tip.Tip {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/tips/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tp tip.Tip
	if err := json.NewDecoder(resp.Body).Decode(&tp); err != nil {
		t.Fatal(err)
	}
	return &tp
}

// findOne searches for a phrase and returns the one tip that holds it.
func findOne(t *testing.T, base, phrase string, within time.Duration) *tip.Tip {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := search(t, base, url.Values{"q": {`"` + phrase + `"`}})
		if r.Total == 1 {
			return getTip(t, base, r.Hits[0].ID)
		}
		if r.Total > 1 || time.Now().After(deadline) {
			t.Fatalf("phrase %q: %d tips", phrase, r.Total)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func hasEntity(tp *tip.Tip, kind, value string) bool {
	return slices.ContainsFunc(tp.Entities, func(e tip.Entity) bool { return e.Kind == kind && e.Value == value })
}

// TestLettersEndToEnd runs tipline serve with a letters folder and real Tesseract: a PNG scan
// and a two-page PDF dropped in the folder and a scan uploaded by the mail room come out
// searchable by a phrase of the letter, routed by their addressee, with their entities; a
// broken file still becomes a tip for manual transcription.
func TestLettersEndToEnd(t *testing.T) {
	lettersDir := t.TempDir()
	inst := start(t, t.TempDir(), "--letters-dir", lettersDir, "--ocr-workers", "2")
	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}

	loan := letterLines(t, "liunan-loan")
	var buf bytes.Buffer
	if err := png.Encode(&buf, sample.Rotate(r.Page(loan), 3)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lettersDir, "scan-0001.png.part"), buf.Bytes(), 0o600)
	os.Rename(filepath.Join(lettersDir, "scan-0001.png.part"), filepath.Join(lettersDir, "scan-0001.png"))

	sext := letterLines(t, "luzhai-sextortion")
	half := len(sext) / 2
	var pages [][]byte
	for _, lines := range [][]string{sext[:half], sext[half:]} {
		b, err := sample.JPEG(r.Page(lines), 85)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	w, h := []int{sample.PageWidth, sample.PageWidth}, []int{sample.PageHeight, sample.PageHeight}
	os.WriteFile(filepath.Join(lettersDir, "scan-0002.pdf"), sample.PDF(pages, w, h), 0o600)
	os.WriteFile(filepath.Join(lettersDir, "scan-0003.png"), []byte("扫描仪出错，这不是图片"), 0o600)

	// The mail room uploads a scan on the analyst listener.
	troll := letterLines(t, "city-troll")
	buf.Reset()
	if err := png.Encode(&buf, r.Page(troll)); err != nil {
		t.Fatal(err)
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("files", "mailroom-17.png")
	fw.Write(buf.Bytes())
	mw.Close()
	resp, err := http.Post(inst.analyst+"/api/v1/letters", mw.FormDataContentType(), &form)
	if err != nil {
		t.Fatal(err)
	}
	var up struct {
		Letters []struct{ ID, Status string }
	}
	json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || len(up.Letters) != 1 || up.Letters[0].Status != "ocr_queued" {
		t.Fatalf("upload: %d %+v", resp.StatusCode, up)
	}

	cases := []struct {
		phrase   string
		office   tip.Office
		category tip.Category
		entities [][2]string
		pages    int
	}{
		{"速借宝", tip.Liunan, tip.PredatoryLoan, [][2]string{{"phone", "13800138000"}, {"qq", "2851736490"}, {"app", "速借宝"}}, 1},
		{"交友软件", tip.Luzhai, tip.Sextortion, [][2]string{{"phone", "13977220088"}, {"wechat", "yeliao8866"}}, 2},
		{"大众点评", tip.City, tip.TrollArmy, [][2]string{{"phone", "15577221234"}}, 1},
	}
	for _, c := range cases {
		tp := findOne(t, inst.analyst, c.phrase, 3*time.Minute)
		if tp.Source != tip.SourceLetter || tp.Office != c.office || tp.OCR == nil || len(tp.OCR.Pages) != c.pages || tp.OCR.Manual {
			t.Errorf("%s: source %s office %s ocr %+v", c.phrase, tp.Source, tp.Office, tp.OCR)
		}
		if tp.Verdict == nil || tp.Verdict.Category != c.category {
			t.Errorf("%s: verdict %+v", c.phrase, tp.Verdict)
		}
		for _, e := range c.entities {
			if !hasEntity(tp, e[0], e[1]) {
				t.Errorf("%s: no %s %s in %+v", c.phrase, e[0], e[1], tp.Entities)
			}
		}
		if tp.Original == nil || len(tp.Original.SHA256) != 64 || tp.Original.Size == 0 {
			t.Errorf("%s: scan not archived with the tip: %+v", c.phrase, tp.Original)
		}
		if r := search(t, inst.analyst, url.Values{"q": {c.phrase}, "office": {string(c.office)}}); r.Total != 1 {
			t.Errorf("%s: %d tips of office %s", c.phrase, r.Total, c.office)
		}
	}
	if up.Letters[0].ID != findOne(t, inst.analyst, "大众点评", time.Second).ID {
		t.Error("the uploaded letter's id is not the one the mail room was given")
	}

	// Four tips in all: the broken scan too, marked for manual transcription.
	waitSearchable(t, inst.analyst, 4, time.Minute)
	if all := search(t, inst.analyst, url.Values{"source": {string(tip.SourceLetter)}}); all.Total != 4 {
		t.Errorf("%d letter tips, want 4", all.Total)
	}
	manual := search(t, inst.analyst, url.Values{"flag": {"manual_transcription"}})
	if manual.Total != 1 {
		t.Fatalf("%d tips waiting for manual transcription, want 1", manual.Total)
	}
	if tp := getTip(t, inst.analyst, manual.Hits[0].ID); tp.OCR == nil || !tp.OCR.Manual || tp.OCR.Reason == "" || tp.Original == nil || tp.SourceRef == "" {
		t.Errorf("manual tip without reason or scan: %+v", tp)
	}
	for _, name := range []string{"done/scan-0001.png", "done/scan-0002.pdf", "failed/scan-0003.png", "failed/scan-0003.png.reason.txt"} {
		if _, err := os.Stat(filepath.Join(lettersDir, name)); err != nil {
			t.Error(err)
		}
	}
	m := scrape(t, inst.ops)
	if got := sum(m["tipline_ocr_pages_total"]); got < 4 {
		t.Errorf("tipline_ocr_pages_total %v, want at least 4", got)
	}
	inst.stop(t, syscall.SIGTERM)
}

// TestLetterStagesOnTheirOwn runs "tipline ingest letters" and "tipline ocr" as separate
// processes against real Kafka, sharing only the archive folder: a scan dropped in the folder
// comes out on the raw topic with its OCR text and its office.
func TestLetterStagesOnTheirOwn(t *testing.T) {
	brokers := kafkaFlags(t)[1]
	run := fmt.Sprint(time.Now().UnixNano())
	dataDir, lettersDir := t.TempDir(), t.TempDir()
	topics := []string{"--kafka", brokers, "--data-dir", dataDir, "--topic-raw", "tips.raw.letters-" + run, "--topic-ocr", "tips.ocr.letters-" + run}
	watcher := startStage(t, append([]string{"ingest", "letters", "--letters-dir", lettersDir}, topics...)...)
	ocr := startStage(t, append([]string{"ocr", "--ocr-workers", "2", "--group-prefix", "t" + run}, topics...)...)

	r, err := sample.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, r.Page(letterLines(t, "liunan-loan"))); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(lettersDir, "scan.png"), buf.Bytes(), 0o600)
	got := consumeTips(t, brokers, "tips.raw.letters-"+run, 1, 2*time.Minute)[0]
	if got.Source != tip.SourceLetter || got.Office != tip.Liunan || !strings.Contains(got.Text, "速借宝") ||
		got.OCR == nil || len(got.OCR.Pages) != 1 || got.OCR.Pages[0].Confidence < 50 {
		t.Errorf("tip from the OCR stage: %+v", got)
	}
	if m := scrape(t, ocr.ops); sum(m["tipline_ocr_pages_total"]) != 1 {
		t.Errorf("ocr metrics: %v", m["tipline_ocr_pages_total"])
	}
	if m := scrape(t, watcher.ops); sum(m["tipline_letters_total"]) != 1 {
		t.Errorf("letters metrics: %v", m["tipline_letters_total"])
	}
	watcher.stop(t)
	ocr.stop(t)
	if _, err := os.Stat(filepath.Join(lettersDir, "done", "scan.png")); err != nil {
		t.Error(err)
	}
}
