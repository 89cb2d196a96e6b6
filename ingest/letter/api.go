package letter

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"

	"github.com/tipline/tipline/internal/account"
)

// API is the mail room's upload endpoint on the analyst listener: POST /api/v1/letters with the
// scan as the body, or as multipart parts named "files".
type API struct {
	intake *Intake
	log    *slog.Logger
}

// NewAPI returns the upload endpoint.
func NewAPI(in *Intake, log *slog.Logger) *API { return &API{intake: in, log: log} }

// Register adds the route to mux.
func (a *API) Register(mux *http.ServeMux) { mux.HandleFunc("POST /api/v1/letters", a.upload) }

type uploaded struct {
	Name   string `json:"name"`
	ID     string `json:"id"`
	Status string `json:"status"` // "ocr_queued", or "manual" with a reason
	Reason string `json:"reason,omitempty"`
	Again  bool   `json:"again,omitempty"` // this office uploaded the same file before: no new tip
}

func (a *API) upload(w http.ResponseWriter, r *http.Request) {
	lim := a.intake.limits.WithDefaults()
	r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBytes*4)
	var out []uploaded
	take := func(name string, body io.Reader) error {
		f, err := os.CreateTemp("", "tipline-upload-")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		_, err = io.Copy(f, body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		// Recognised as a duplicate only among this office's uploads: the answer must not say
		// whether another office holds the same scan.
		res, err := a.intake.TakeIn(r.Context(), account.ScopeOf(r), f.Name(), name, "upload:"+name)
		if err != nil {
			return err
		}
		u := uploaded{Name: name, ID: res.ID, Status: "ocr_queued", Again: res.Again}
		if res.Reason != "" {
			u.Status, u.Reason = "manual", res.Reason
		}
		out = append(out, u)
		return nil
	}
	var err error
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, perr := mr.NextPart()
			if errors.Is(perr, io.EOF) {
				break
			}
			if perr != nil {
				err = perr
				break
			}
			if p.FormName() == "files" {
				if err = take(filepath.Base(p.FileName()), p); err != nil {
					break
				}
			}
		}
	} else {
		err = take(filepath.Base(r.URL.Query().Get("name")), r.Body)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "上传内容过大", "letters": out})
	case err != nil:
		a.log.Error("letter upload failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "扫描件未能收下，请重试", "letters": out})
	case len(out) == 0:
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "没有收到文件（请求体即文件，或 multipart 的 files 部分）"})
	default:
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"letters": out})
	}
}
