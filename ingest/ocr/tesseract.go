package ocr

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Tesseract runs the tesseract command. One call runs one single-threaded process
// (OMP_THREAD_LIMIT=1): several multi-threaded Tesseracts side by side are many times slower
// than one thread each, so parallelism comes from running one process per worker.
type Tesseract struct {
	Bin     string        // default "tesseract"
	Langs   string        // default "chi_sim+eng"
	Timeout time.Duration // per page image (default 2m)
}

// DefaultLangs are Tesseract's languages: Simplified Chinese first (a Reader reads with it
// alone first), and English for the Latin-script names, addresses and accounts in tips.
const DefaultLangs = "chi_sim+eng"

// Page is the text Tesseract read from one page, with its mean word confidence (0-100).
type Page struct {
	Number     int
	Text       string
	Confidence float64
}

func (t Tesseract) withDefaults() Tesseract {
	t.Bin = cmp.Or(t.Bin, "tesseract")
	t.Langs = cmp.Or(t.Langs, DefaultLangs)
	t.Timeout = cmp.Or(t.Timeout, 2*time.Minute)
	return t
}

// Check verifies that tesseract runs and has the languages, for startup and readiness.
func (t Tesseract) Check(ctx context.Context) error {
	t = t.withDefaults()
	out, err := exec.CommandContext(ctx, t.Bin, "--list-langs").CombinedOutput()
	if err != nil {
		return fmt.Errorf("ocr: %s: %w (install Debian's tesseract-ocr and tesseract-ocr-chi-sim)", t.Bin, err)
	}
	for _, l := range strings.Split(t.Langs, "+") {
		if !bytes.Contains(out, []byte("\n"+l+"\n")) && !bytes.HasSuffix(out, []byte("\n"+l)) {
			return fmt.Errorf("ocr: tesseract has no %q language data (install tesseract-ocr-%s)", l, strings.ReplaceAll(l, "_", "-"))
		}
	}
	return nil
}

// Args is the command line for one image, as a person would type it (the bench runs exactly
// this by hand to measure tipline's overhead).
func (t Tesseract) Args(path string) []string {
	t = t.withDefaults()
	return []string{path, "stdout", "-l", t.Langs, "tsv"}
}

// Command returns the prepared process for one image.
func (t Tesseract) Command(ctx context.Context, path string) *exec.Cmd {
	t = t.withDefaults()
	cmd := exec.CommandContext(ctx, t.Bin, t.Args(path)...)
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	return cmd
}

// Read OCRs one image file (a multi-page TIFF gives several pages).
func (t Tesseract) Read(ctx context.Context, path string) ([]Page, error) {
	t = t.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	cmd := t.Command(ctx, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ocr: tesseract timed out after %s", t.Timeout)
		}
		return nil, fmt.Errorf("ocr: tesseract: %w: %s", err, lastLine(stderr.String()))
	}
	return ParseTSV(out)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// ParseTSV turns Tesseract's TSV (one row per page, block, paragraph, line and word) into the
// text of each page, lines kept, and the mean confidence of its words weighted by length.
func ParseTSV(tsv []byte) ([]Page, error) {
	sc := bufio.NewScanner(bytes.NewReader(tsv))
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	var pages []Page
	type lineKey struct{ block, par, line int }
	var cur *Page
	var text strings.Builder
	var last lineKey
	var lastPar struct{ block, par int }
	var confSum, confWeight float64
	flush := func() {
		if cur == nil {
			return
		}
		cur.Text = strings.TrimSpace(text.String())
		if confWeight > 0 {
			cur.Confidence = confSum / confWeight
		}
		pages = append(pages, *cur)
	}
	header := true
	for sc.Scan() {
		if header {
			header = false
			if !strings.HasPrefix(sc.Text(), "level") {
				return nil, errors.New("ocr: tesseract output is not TSV")
			}
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 12 {
			continue
		}
		level, _ := strconv.Atoi(f[0])
		page, _ := strconv.Atoi(f[1])
		if level == 1 {
			flush()
			cur = &Page{Number: page}
			text.Reset()
			last, lastPar = lineKey{-1, -1, -1}, struct{ block, par int }{-1, -1}
			confSum, confWeight = 0, 0
			continue
		}
		if level != 5 || cur == nil {
			continue
		}
		word := strings.TrimSpace(f[11])
		if word == "" {
			continue
		}
		block, _ := strconv.Atoi(f[2])
		par, _ := strconv.Atoi(f[3])
		line, _ := strconv.Atoi(f[4])
		key := lineKey{block, par, line}
		switch {
		case text.Len() == 0:
		case key.block != lastPar.block || key.par != lastPar.par:
			text.WriteString("\n\n")
		case key != last:
			text.WriteString("\n")
		default:
			if needsSpace(text.String(), word) {
				text.WriteByte(' ')
			}
		}
		text.WriteString(word)
		last, lastPar = key, struct{ block, par int }{block, par}
		if conf, err := strconv.ParseFloat(f[10], 64); err == nil && conf >= 0 {
			n := float64(utf8.RuneCountInString(word))
			confSum += conf * n
			confWeight += n
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ocr: tesseract output: %w", err)
	}
	return pages, nil
}

// needsSpace: Tesseract reports Chinese as separate words, which must be joined without a
// space; a space stays between two Latin words or numbers.
func needsSpace(before, word string) bool {
	a, _ := utf8.DecodeLastRuneInString(before)
	b, _ := utf8.DecodeRuneInString(word)
	return !wide(a) && !wide(b)
}

// wide reports Chinese characters and full-width punctuation, which take no spaces around them.
func wide(r rune) bool {
	return unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF
}
