package webform

import (
	"mime/multipart"
	"net/http"

	"github.com/tipline/tipline/internal/metrics"
	"github.com/tipline/tipline/internal/tip"
)

// apiSubmit takes POST /api/v1/tips: a JSON body, or multipart with the JSON in a part named
// "tip" (first) and files in parts named "files".
func (s *Server) apiSubmit(w http.ResponseWriter, r *http.Request) {
	var req request
	up, rej := s.readAPIBody(w, r, &req)
	defer up.discard()
	if rej == nil && req.Channel != "" {
		rej = reject(http.StatusBadRequest, reasonField, "未知字段 channel。")
	}
	s.takeAPI(w, r, rej, &req, up, tip.SourceWeb, "form")
}

// readAPIBody reads an API request's JSON into into, and its files when it is multipart.
func (s *Server) readAPIBody(w http.ResponseWriter, r *http.Request, into any) (*upload, *rejection) {
	up := &upload{batch: s.archive.Batch()}
	switch mediaType(r) {
	case "application/json":
		return up, decodeJSON(http.MaxBytesReader(w, r.Body, s.limits.MaxBody), s.limits.MaxBody, into)
	case "multipart/form-data":
		return up, s.apiParts(w, r, up, into)
	}
	return up, reject(http.StatusUnsupportedMediaType, reasonMediaType, "请以 application/json 或 multipart/form-data（JSON 放在 tip 项，文件放在 files 项）格式提交。")
}

// takeAPI checks a read request and takes it in from source, answering 201 with the id and the
// receipt, or the refusal.
func (s *Server) takeAPI(w http.ResponseWriter, r *http.Request, rej *rejection, req *request, up *upload, source tip.Source, ref string) {
	if rej == nil {
		rej = s.check(req)
	}
	if rej != nil {
		s.apiRefuse(w, rej, up)
		return
	}
	id, receipt, err := s.takeFrom(r.Context(), req, up, source, ref)
	if err != nil {
		s.log.Error("tip not taken in", "source", source, "err", err)
		up.discard()
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": unavailable, "code": "unavailable"})
		return
	}
	s.log.Info("tip received", s.logAttrs(r, "id", id, "source", source, "office", metrics.OfficeLabel(tip.Office(req.Office)), "files", len(up.files))...)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "receipt": receipt})
}

// apiParts reads a multipart API body: JSON in one part named "tip" (best sent first, so a
// refusal of the fields comes before the upload), files in parts named "files".
func (s *Server) apiParts(w http.ResponseWriter, r *http.Request, up *upload, into any) *rejection {
	seen := false
	rej := s.eachPart(w, r, up, false, func(name string, p *multipart.Part) *rejection {
		if name != "tip" || seen {
			return reject(http.StatusBadRequest, reasonField, "未知的表单项 %q：JSON 放在一个名为 tip 的表单项中，文件放在 files 项中。", name)
		}
		seen = true
		return decodeJSON(p, s.limits.MaxBody, into)
	})
	if rej == nil && !seen {
		rej = reject(http.StatusBadRequest, reasonNoText, "缺少名为 tip 的表单项（JSON 格式的举报内容）。")
	}
	return rej
}

// apiRefuse drops what the refused submission stored, counts the refusal and answers it.
func (s *Server) apiRefuse(w http.ResponseWriter, rej *rejection, up *upload) {
	up.discard()
	s.countRefusal(rej)
	setRetryAfter(w, rej)
	writeJSON(w, rej.status, map[string]string{"error": rej.msg, "code": rej.reason})
}

func (s *Server) countRefusal(rej *rejection) {
	if rej.reason == reasonUnavailable {
		s.metrics.IngestFailed.WithLabelValues(string(tip.SourceWeb), "archive").Inc()
		return
	}
	s.metrics.IngestRejected.WithLabelValues(string(tip.SourceWeb), rej.reason).Inc()
}

// OfficerIntake serves POST /api/v1/intake on the analysts' side: a tip an officer took by
// phone or in person, with the same fields and files as the public API and "channel" ("phone"
// or "in_person"); the officer is the signed-in user, recorded as the source reference. The
// reporter's identity is sealed as on the public form, and the receipt is read out to them.
func (s *Server) OfficerIntake(officer func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req request
		up, rej := s.readAPIBody(w, r, &req)
		defer up.discard()
		source := tip.Source(req.Channel)
		if rej == nil && source != tip.SourcePhone && source != tip.SourceInPerson {
			rej = reject(http.StatusBadRequest, reasonField, "channel 应为 phone（电话）或 in_person（来访）。")
		}
		s.takeAPI(w, r, rej, &req, up, source, "officer:"+officer(r))
	}
}
