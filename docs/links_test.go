// Package docs holds tipline's manual. This test keeps its links working: every relative link
// and #anchor in README.md and docs/*.md must lead to a file of the repository and, for an
// anchor, to a heading of that file as GitHub renders it.
package docs

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The manual's files, relative to this folder.
func manualFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, files...)
}

var (
	// [text](target) and ![alt](target); the target ends at the first space or ')'.
	inlineLink = regexp.MustCompile(`!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	// [label]: target
	refLink  = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	htmlID   = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	heading  = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	codeSpan = regexp.MustCompile("`+[^`]*`+")
	mdLink   = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	htmlTag  = regexp.MustCompile(`<[^>]+>`)
)

// doc is a Markdown file read for its links and its headings' anchors.
type doc struct {
	links   []link
	anchors map[string]bool
}

type link struct {
	line   int
	target string
}

// parse reads a Markdown file, skipping fenced code blocks; in other lines code spans are
// blanked before links are looked for (a link inside backticks is text, not a link).
func parse(b []byte) doc {
	d := doc{anchors: map[string]bool{}}
	seen := map[string]int{}
	var fence string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			a := Slug(m[2])
			if k := seen[a]; k > 0 {
				d.anchors[fmt.Sprintf("%s-%d", a, k)] = true
			} else {
				d.anchors[a] = true
			}
			seen[a]++
		}
		for _, m := range htmlID.FindAllStringSubmatch(line, -1) {
			d.anchors[m[1]] = true
		}
		text := codeSpan.ReplaceAllStringFunc(line, func(s string) string { return strings.Repeat(" ", len(s)) })
		for _, m := range inlineLink.FindAllStringSubmatch(text, -1) {
			d.links = append(d.links, link{n, m[1]})
		}
		if m := refLink.FindStringSubmatch(text); m != nil {
			d.links = append(d.links, link{n, m[1]})
		}
	}
	return d
}

// Slug is the anchor GitHub gives a heading: its text (code spans' content, links' text, no
// emphasis or tags) in lower case, with every character other than a letter, a digit, a mark,
// '-', '_' or a space dropped (Chinese is kept), and spaces turned into '-'.
func Slug(h string) string {
	h = mdLink.ReplaceAllString(h, "$1")
	h = htmlTag.ReplaceAllString(h, "")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.No, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"TiplineDown":                           "tiplinedown",
		"Flags of `tipline serve`":              "flags-of-tipline-serve",
		"6. Refused uploads left on disk":       "6-refused-uploads-left-on-disk",
		"Citizens: `--public-addr`":             "citizens---public-addr",
		"Dependencies, and why":                 "dependencies-and-why",
		"The review queue (待复核)":                "the-review-queue-待复核",
		"Office scoping: the invariant":         "office-scoping-the-invariant",
		"**Bold** and [a link](x.md) and_under": "bold-and-a-link-and_under",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSkipsCodeAndCountsDuplicateHeadings(t *testing.T) {
	d := parse([]byte("# A\n\n```sh\n# not a heading [x](nowhere.md)\n```\n\n## A\n\n`[y](nowhere.md)` [z](b.md#c)\n"))
	if !d.anchors["a"] || !d.anchors["a-1"] || d.anchors["not-a-heading"] {
		t.Errorf("anchors %v", d.anchors)
	}
	if len(d.links) != 1 || d.links[0].target != "b.md#c" {
		t.Errorf("links %v", d.links)
	}
}

// TestLinksResolve: every relative link of the README and the manual leads to a file or folder
// of the repository, and every #anchor to a heading (or an <a id>) of the Markdown file it names.
func TestLinksResolve(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]doc{}
	read := func(path string) (doc, error) {
		if d, ok := docs[path]; ok {
			return d, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return doc{}, err
		}
		d := parse(b)
		docs[path] = d
		return d, nil
	}
	checked := 0
	for _, file := range manualFiles(t) {
		path, err := filepath.Abs(file)
		if err != nil {
			t.Fatal(err)
		}
		d, err := read(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range d.links {
			where := fmt.Sprintf("%s:%d: %s", file, l.line, l.target)
			u, err := url.Parse(l.target)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				continue // outside the repository: not checked here
			}
			target := path
			if u.Path != "" {
				if strings.HasPrefix(u.Path, "/") {
					t.Errorf("%s: an absolute path; write it relative to the file", where)
					continue
				}
				target = filepath.Join(filepath.Dir(path), filepath.FromSlash(u.Path))
			}
			if rel, err := filepath.Rel(root, target); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s: leads outside the repository", where)
				continue
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s: no such file", where)
				continue
			}
			checked++
			if u.Fragment == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				t.Errorf("%s: an anchor into a file that is not Markdown", where)
				continue
			}
			td, err := read(target)
			if err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if !td.anchors[u.Fragment] {
				t.Errorf("%s: no heading with the anchor #%s", where, u.Fragment)
			}
		}
	}
	if checked == 0 {
		t.Error("no links found: is the parser broken?")
	}
}
