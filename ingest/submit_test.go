package ingest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tipline/tipline/internal/archive"
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
	pub := &memPublisher{}
	sub := NewSubmitter(arc, pub, "raw", metrics.New(prometheus.NewRegistry(), nil)).WithOCR("ocr")
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
			pub.msgs = nil
			got, err := sub.Submit(context.Background(), c.sub)
			if err != nil {
				t.Fatal(err)
			}
			if len(pub.msgs) != 1 || pub.msgs[0].Topic != c.topic {
				t.Fatalf("published %+v, want one message on %s", pub.msgs, c.topic)
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
