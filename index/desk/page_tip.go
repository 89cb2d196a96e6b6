package desk

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/tip"
)

type tipData struct {
	frame
	Tip         *tip.Tip
	Text        template.HTML // the text with the classifier's matches marked
	Related     []index.Related
	Next        []string // statuses the tip may move to
	Categories  []tip.Category
	Offices     []tip.Office
	Scans       []tip.Attachment // pictures of a letter, shown beside its OCR text
	CanIdentify bool
	Identity    any // an opened identity, shown once, never stored
	HasDesk     bool
	// OriginalNamesReporter: the original (an e-mail's .eml) names the reporter, so it is
	// offered as a form with a reason to those who may open identities (CanOpenOriginal) and
	// explained, not linked, to everybody else.
	OriginalNamesReporter bool
	CanOpenOriginal       bool
}

func (p *pages) tipPage(w http.ResponseWriter, r *http.Request) {
	t, err := p.api.viewTip(r, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showTip(w, r, t, http.StatusOK, func(d *tipData) { d.Notice = r.URL.Query().Get("done") })
}

// relatedShown is how many related tips per entity the tip page lists; the entity page has all.
const relatedShown = 5

// tipNotices are the confirmations a redirect after an action may show (?done=).
var tipNotices = map[string]string{"status": "状态已更新。", "correction": "已更正，并已记入反馈文件。"}

func (p *pages) showTip(w http.ResponseWriter, r *http.Request, t *tip.Tip, status int, edit func(*tipData)) {
	rel, err := p.api.engine.Related(r.Context(), t, userOffices(r))
	if err != nil {
		p.api.log.Error("related tips failed", "id", t.ID, "err", err)
	}
	from := tip.StatusNew
	if t.Handling != nil {
		from = t.Handling.Status
	}
	for i := range rel {
		rel[i].Hits = rel[i].Hits[:min(len(rel[i].Hits), relatedShown)]
	}
	d := tipData{frame: p.frame(w, r, "线索 "+t.ID), Tip: t, Text: markMatches(t), Related: rel,
		Next: nextStatuses[from], Categories: tip.AllCategories(), Offices: tip.Offices(),
		CanIdentify: canOpenIdentities(r) && t.Reporter.Sealed != "", HasDesk: p.api.changes != nil}
	if t.Original != nil && identifiesReporter(t, t.Original) {
		d.OriginalNamesReporter = true
		d.CanOpenOriginal = d.HasDesk && canOpenIdentities(r) && mayOpenFor(r, t) == nil
	}
	if t.Source == tip.SourceLetter {
		for _, a := range append(derefAttachment(t.Original), t.Attachments...) {
			if previewable(a.MediaType) {
				d.Scans = append(d.Scans, a)
			}
		}
	}
	edit(&d)
	d.Notice = tipNotices[d.Notice]
	p.render(w, status, "tip.html", d)
}

// markMatches escapes the tip's text and marks the classifier's matches in it. Matches are
// byte ranges into the text; overlapping or broken ones are skipped rather than trusted.
func markMatches(t *tip.Tip) template.HTML {
	var ms []tip.Match
	if t.Verdict != nil {
		ms = slices.Clone(t.Verdict.Matches)
	}
	slices.SortFunc(ms, func(a, b tip.Match) int { return cmp.Or(a.Start-b.Start, b.End-a.End) })
	var b strings.Builder
	pos := 0
	for _, m := range ms {
		if m.Start < pos || m.End <= m.Start || m.End > len(t.Text) ||
			!utf8.RuneStart(t.Text[m.Start]) || (m.End < len(t.Text) && !utf8.RuneStart(t.Text[m.End])) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(t.Text[pos:m.Start]))
		class := "match"
		if m.Weight < 0 {
			class = "match negative"
		}
		fmt.Fprintf(&b, `<mark class="%s" title="%s %+.1f">%s</mark>`, class,
			template.HTMLEscapeString(cmp.Or(m.Category.Name(), "全部类别")), m.Weight, template.HTMLEscapeString(t.Text[m.Start:m.End]))
		pos = m.End
	}
	b.WriteString(template.HTMLEscapeString(t.Text[pos:]))
	return template.HTML(b.String())
}

func previewable(mediaType string) bool {
	return slices.Contains([]string{"image/jpeg", "image/png", "image/webp", "image/gif"}, mediaType)
}

// formTip starts a form's action on a tip: the form must carry the session's CSRF token, pass
// check (may be nil), and name a tip the user may see, in a process that can change tips. On
// a refusal it shows the page that says why and returns false.
func (p *pages) formTip(w http.ResponseWriter, r *http.Request, check func() error) (*tip.Tip, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	err := errForged
	if csrfOK(r) {
		err = nil
		if check != nil {
			err = check()
		}
	}
	if err == nil && p.api.changes == nil {
		err = errNoDesk
	}
	var t *tip.Tip
	if err == nil {
		t, err = p.api.loadVisible(r, r.PathValue("id"))
	}
	if err != nil {
		p.fail(w, r, err)
		return nil, false
	}
	return t, true
}

// action runs a form's change on a tip through the same code as the API's, then shows the tip.
func (p *pages) action(w http.ResponseWriter, r *http.Request, change func(t *tip.Tip) error, done string) {
	t, ok := p.formTip(w, r, nil)
	if !ok {
		return
	}
	if err := change(t); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tips/"+t.ID+"?done="+done, http.StatusSeeOther)
}

func (p *pages) statusAction(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, func(t *tip.Tip) error {
		return p.api.changeStatus(r, t, r.PostFormValue("status"), strings.TrimSpace(r.PostFormValue("note")))
	}, "status")
}

func (p *pages) correctionAction(w http.ResponseWriter, r *http.Request) {
	p.action(w, r, func(t *tip.Tip) error {
		category, office, reason := r.PostFormValue("category"), r.PostFormValue("office"), r.PostFormValue("reason")
		if t.Verdict != nil && category == string(t.Verdict.Category) {
			category = ""
		}
		if office == string(t.Office) {
			office = ""
		}
		if err := checkCorrection(category, office, reason); err != nil {
			return err
		}
		return p.api.applyCorrection(r, t, category, office, reason)
	}, "correction")
}

// identityAction opens a sealed identity and shows it on the tip page of this answer only.
func (p *pages) identityAction(w http.ResponseWriter, r *http.Request) {
	t, ok := p.formTip(w, r, func() error { return mayOpenIdentity(r, r.PostFormValue("reason")) })
	if !ok {
		return
	}
	who, err := p.api.identity(r, t, r.PostFormValue("reason"), r.PostFormValue("key"), tip.Office(r.PostFormValue("key_office")))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.showTip(w, r, t, http.StatusOK, func(d *tipData) { d.Identity = who })
}

// originalAction downloads an original that names the reporter, from the tip page's form: the
// same rules as the API's (supervisor of the receiving office or admin, a reason, audited
// first), with the form's CSRF token, since it opens an identity.
func (p *pages) originalAction(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	t, ok := p.formTip(w, r, func() error {
		if !shaPattern.MatchString(sha) {
			return refusal(http.StatusBadRequest, "附件应以 sha256（64 位十六进制）指明。")
		}
		return mayOpenIdentity(r, r.PostFormValue("reason"))
	})
	if !ok {
		return
	}
	if err := p.api.sendFile(w, r, t, sha, false, r.PostFormValue("reason")); err != nil {
		p.fail(w, r, err)
	}
}
