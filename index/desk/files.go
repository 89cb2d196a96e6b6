package desk

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/tip"
)

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// attachment serves one of a tip's files by its sha256: for a picture, the copy without its
// metadata unless a supervisor or admin asks for the original (?original=1). An original that
// can name the reporter (an e-mail's .eml) follows the identity rules: a supervisor of the
// receiving office or an admin, with ?reason=, audited first. Files are always downloads, never
// pages: whatever a tip's files contain, the browser does not run it here.
func (a *api) attachment(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha")
	if !shaPattern.MatchString(sha) {
		writeError(w, http.StatusBadRequest, "an attachment is named by its sha256: 64 hexadecimal digits")
		return
	}
	t, ok := a.deskTip(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	if err := a.sendFile(w, r, t, sha, q.Get("original") == "1", q.Get("reason")); err != nil {
		writeDeskError(w, err)
	}
}

// sendFile serves t's file sha (see attachment), or refuses before anything is written.
func (a *api) sendFile(w http.ResponseWriter, r *http.Request, t *tip.Tip, sha string, original bool, reason string) error {
	var file *tip.Attachment
	for _, f := range append(slices.Clone(t.Attachments), derefAttachment(t.Original)...) {
		if f.SHA256 == sha {
			file = &f
			break
		}
	}
	if file == nil {
		return refusal(http.StatusNotFound, "no such attachment on this tip")
	}
	action, detail := "download", map[string]any{"sha256": sha}
	serve := file
	switch {
	case identifiesReporter(t, file):
		// The sender's address is in the file's headers: it is an identity, opened like one.
		if err := mayOpenIdentity(r, reason); err != nil {
			return refusal(deskStatus(err), "this original names the reporter (the sender's address): only a supervisor of the receiving office, or an admin, downloads it, with a reason (?reason=)")
		}
		if err := mayOpenFor(r, t); err != nil {
			return err
		}
		action, detail["reason"], detail["name"] = "identity_original", reason, file.Name
	case file.Clean != nil && !original:
		serve = file.Clean
	case file.Clean != nil:
		if u, ok := account.FromContext(r.Context()); ok && u.Role == account.RoleAnalyst {
			return refusal(http.StatusForbidden, "the original of a picture keeps its location and camera data: a supervisor opens it")
		}
		detail["original"] = true
	}
	detail["sha256"] = serve.SHA256
	rc, err := a.changes.files.Open(r.Context(), serve.SHA256)
	if err != nil {
		a.log.Error("attachment not readable", "id", t.ID, "err", err)
		return refusal(http.StatusServiceUnavailable, "the archive is not available")
	}
	defer rc.Close()
	if err := a.auditTip(r, action, t, detail); err != nil {
		return errAuditDown
	}
	h := w.Header()
	h.Set("Content-Type", downloadType(serve.MediaType))
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(file.Name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Tipline-SHA256", serve.SHA256)
	_, _ = io.Copy(w, rc)
	return nil
}

// identifiesReporter reports whether f is t's original (or the same bytes) and that original
// can name the reporter: an e-mail, whose From, Reply-To and Received headers name the sender
// (its reporter is never sealed: the trust issue will seal it), or any original of a tip whose
// reporter left an identity that is not sealed apart. Web and officer intake originals are kept
// without the identity, which is sealed; letters are anonymous scans.
func identifiesReporter(t *tip.Tip, f *tip.Attachment) bool {
	if t.Original == nil || f.SHA256 != t.Original.SHA256 {
		return false
	}
	return t.Source == tip.SourceEmail || t.Original.MediaType == "message/rfc822" ||
		(t.Reporter.HasIdentity && t.Reporter.Sealed == "")
}

func derefAttachment(a *tip.Attachment) []tip.Attachment {
	if a == nil {
		return nil
	}
	return []tip.Attachment{*a}
}

// downloadType keeps the types a browser may show inline to pictures and PDFs; anything else
// is a plain download.
func downloadType(mediaType string) string {
	switch {
	case strings.HasPrefix(mediaType, "image/") && mediaType != "image/svg+xml", mediaType == "application/pdf",
		strings.HasPrefix(mediaType, "audio/"), strings.HasPrefix(mediaType, "video/"):
		return mediaType
	}
	return "application/octet-stream"
}
