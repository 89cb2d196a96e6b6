package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/tipline/tipline/internal/tip"
)

var scanExts = []string{".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"}

func importDir(ctx context.Context, base, dir, office, token string) error {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		return err
	}
	slices.Sort(files)
	var imported, again, skipped int
	var failed []string
	p := newProgress("import", len(files))
	client := &http.Client{Timeout: 5 * time.Minute}
	for i, path := range files {
		if ctx.Err() != nil {
			break
		}
		rel, _ := filepath.Rel(dir, path)
		ext := strings.ToLower(filepath.Ext(path))
		var endpoint string
		switch {
		case ext == ".eml":
			endpoint = "/api/v1/emails?" + url.Values{"name": {rel}, "office": {office}}.Encode()
		case slices.Contains(scanExts, ext):
			endpoint = "/api/v1/letters?" + url.Values{"name": {rel}}.Encode()
		default:
			skipped++
			fmt.Fprintf(os.Stderr, "skipped %s: neither an .eml file nor a scan\n", rel)
			p.set(i+1, len(files))
			continue
		}
		wasAgain, err := importFile(ctx, client, base+endpoint, path, token)
		switch {
		case err != nil:
			failed = append(failed, rel)
			fmt.Fprintf(os.Stderr, "failed %s: %v\n", rel, err)
		case wasAgain:
			again++
		default:
			imported++
		}
		p.set(i+1, len(files))
	}
	p.finish()
	fmt.Printf("imported %d, already there %d, skipped %d, failed %d\n", imported, again, skipped, len(failed))
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted; run the same command again to go on: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d files not imported (run again to retry them): %s", len(failed), strings.Join(failed, ", "))
	}
	return nil
}

// importFile posts one file and says whether tipline had taken it in before.
func importFile(ctx context.Context, client *http.Client, target, path, token string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	resp, err := callAnalysts(ctx, client, http.MethodPost, target, "application/octet-stream", f, token)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	// The e-mail endpoint answers one object; the letters endpoint a list under "letters".
	var answer struct {
		Again   bool   `json:"again"`
		Error   string `json:"error"`
		Letters []struct {
			Again bool `json:"again"`
		} `json:"letters"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode >= 300 {
		return false, fmt.Errorf("%s: %s", resp.Status, answer.Error)
	}
	if len(answer.Letters) > 0 {
		return answer.Letters[0].Again, nil
	}
	return answer.Again, nil
}

func importCommand() *ffcli.Command {
	fs := newFlags("import")
	target, token := analystsFlags(fs, "analyst API of the running process that takes letters in (tipline serve, or --roles letters)",
		"API token (tipline user add), once accounts exist; TIPLINE_TOKEN also works")
	office := fs.String("office", "", "office code the imported e-mails go to (routing reason mailbox); empty: routed by their text. Scans are routed by their addressee")
	return command(fs, withEnv, about{usage: "tipline import [--url URL] [--office CODE] DIR",
		short: "bulk-import a folder of saved .eml files and scans, skipping what was imported before",
		long: "Sends every .eml file and every scan (.png, .jpg, .jpeg, .tif, .tiff, .pdf) under DIR, in name order,\n" +
			"to a running tipline, which archives each and makes it a tip. A file taken in before (the same bytes,\n" +
			"or for e-mail the same Message-ID) becomes no second tip, so running it again after an interruption\n" +
			"is safe. Other files are listed and skipped. Shows a progress bar with the time left on a terminal,\n" +
			"log lines otherwise; exits 1 if any file could not be imported."},
		func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return errors.New("import takes one folder")
			}
			if *office != "" && !tip.Office(*office).Valid() {
				return fmt.Errorf("--office: unknown office %q", *office)
			}
			return importDir(ctx, *target, args[0], *office, *token)
		})
}
