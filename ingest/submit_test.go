package ingest

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/archive"
	"github.com/tipline/tipline/internal/bus/bustest"
	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// TestSubmitRoutesAndStoresForOCR checks which topic each kind of tip goes to, and that scans
// and images, however small, are archived as files the OCR stage can read from another process.
func TestSubmitRoutesAndStoresForOCR(t *testing.T) {
	dir := t.TempDir()
	arc, err := archive.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	files, err := archive.OpenFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub := &bustest.Publisher{}
	sub := NewSubmitter(arc, pub, "raw", metrics.New(prometheus.NewRegistry(), metrics.Labels{})).WithOCR("ocr")
	file := func(name, mt string) File {
		return File{Name: name, MediaType: mt, Body: strings.NewReader(name + " bytes")}
	}
	cases := []struct {
		name     string
		sub      Submission
		topic    string
		readable int // of original and attachments, how many Files can read
		archived int
	}{
		{"web tip, text only", Submission{Source: tip.SourceWeb, Text: "有人放高利贷", Original: file("form.json", "application/json")}, "raw", 0, 1},
		{"letter scan", Submission{Source: tip.SourceLetter, Original: file("scan.png", "image/png")}, "ocr", 1, 1},
		{"letter already known unreadable", Submission{Source: tip.SourceLetter, Original: file("bad.png", "image/png"),
			OCR: &tip.OCR{Manual: true, Reason: "文件已损坏"}}, "raw", 1, 1},
		{"e-mail with a screenshot", Submission{Source: tip.SourceEmail, Text: "见截图", Original: file("mail.eml", "message/rfc822"),
			Attachments: []File{file("chat.jpg", "image/jpeg"), file("list.xlsx", "application/vnd.ms-excel")}}, "ocr", 1, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub.Reset()
			got, err := sub.Submit(context.Background(), c.sub)
			if err != nil {
				t.Fatal(err)
			}
			if msgs := pub.Messages(); len(msgs) != 1 || msgs[0].Topic != c.topic {
				t.Fatalf("published %+v, want one message on %s", msgs, c.topic)
			}
			all := append([]tip.Attachment{*got.Original}, got.Attachments...)
			if len(all) != c.archived {
				t.Fatalf("%d archived files, want %d", len(all), c.archived)
			}
			readable := 0
			for _, a := range all {
				rc, err := files.Open(context.Background(), a.SHA256)
				switch {
				case err == nil:
					rc.Close()
					readable++
				case !errors.Is(err, archive.ErrNotFound):
					t.Fatal(err)
				}
			}
			if readable != c.readable {
				t.Errorf("%d of %d blobs readable by the OCR stage on its own, want %d", readable, len(all), c.readable)
			}
		})
	}
}

// failingReader gives some bytes, then fails: a channel's file cut off while it is archived.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), r.n)
	for i := range n {
		p[i] = 'x'
	}
	r.n -= n
	return n, nil
}

// TestFailedSubmissionLeavesNoFiles: an e-mail or letter whose attachment fails while it is
// archived (after the original and a large file were written) publishes nothing and leaves
// nothing in the archive's folders, not even a temporary file.
func TestFailedSubmissionLeavesNoFiles(t *testing.T) {
	dir := t.TempDir()
	arc, err := archive.OpenLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	pub := &bustest.Publisher{}
	sub := NewSubmitter(arc, pub, "raw", metrics.New(prometheus.NewRegistry(), metrics.Labels{}))
	_, err = sub.Submit(context.Background(), Submission{Source: tip.SourceEmail, Text: "见附件",
		Original: File{Name: "mail.eml", MediaType: "message/rfc822", Body: strings.NewReader(strings.Repeat("m", 1<<20))},
		Attachments: []File{
			{Name: "big.bin", MediaType: "application/octet-stream", Body: strings.NewReader(strings.Repeat("b", 1<<20))},
			{Name: "cut.bin", MediaType: "application/octet-stream", Body: &failingReader{n: 1 << 19}},
		}})
	if !errors.Is(err, ErrArchive) {
		t.Fatalf("submit: %v, want an archive failure", err)
	}
	if pub.Len() != 0 {
		t.Errorf("published %d messages", pub.Len())
	}
	for _, sub := range []string{"tmp", "blobs"} {
		var files []string
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if len(files) > 0 {
			t.Errorf("%s/ keeps %v", sub, files)
		}
	}
}
