package ocr

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/tipline/tipline/internal/scanfile"
)

var pageSizeLine = regexp.MustCompile(`(?m)^Page\s+(\d+)\s+size:\s+([\d.]+)\s+x\s+([\d.]+)\s+pts`)

// pdfPagePixels asks pdfinfo for the size of each of the first n pages and returns the pixels
// each becomes when rendered at lim.DPI: what a page costs is known before it is rendered.
func pdfPagePixels(ctx context.Context, path string, n int, lim Limits) ([]int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pdfinfo", "-f", "1", "-l", strconv.Itoa(n), path).CombinedOutput()
	if err != nil {
		return nil, unusable("PDF 已损坏，无法读取（%s）", lastLine(string(out)))
	}
	px := make([]int64, n)
	dots := float64(lim.DPI) / 72
	for _, m := range pageSizeLine.FindAllStringSubmatch(string(out), -1) {
		i, _ := strconv.Atoi(m[1])
		w, _ := strconv.ParseFloat(m[2], 64)
		h, _ := strconv.ParseFloat(m[3], 64)
		if i >= 1 && i <= n {
			px[i-1] = int64(math.Ceil(w*dots)) * int64(math.Ceil(h*dots))
		}
	}
	for i, p := range px {
		if p <= 0 {
			return nil, unusable("PDF 已损坏，读不出第 %d 页的尺寸", i+1)
		}
	}
	return px, nil
}

// renderPage renders one page (numbered from 1) to a greyscale PNG at lim.DPI with poppler's
// pdftoppm and returns the file.
func renderPage(ctx context.Context, path, dir string, page int, lim Limits) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	prefix := filepath.Join(dir, "page-"+strconv.Itoa(page))
	n := strconv.Itoa(page)
	out, err := exec.CommandContext(ctx, "pdftoppm", "-gray", "-png", "-r", strconv.Itoa(lim.DPI),
		"-f", n, "-l", n, "-singlefile", path, prefix).CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("ocr: pdftoppm page %d: %w", page, ctx.Err())
		}
		return "", unusable("PDF 第 %d 页无法渲染（%s）", page, lastLine(string(out)))
	}
	return prefix + ".png", nil
}

// unusable is a scan that cannot be read, saying why in Chinese.
func unusable(format string, args ...any) error {
	return &scanfile.Unusable{Reason: fmt.Sprintf(format, args...)}
}
