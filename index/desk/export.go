package desk

import (
	"encoding/csv"
	"net/http"
	"strings"

	"github.com/tipline/tipline/index"
	"github.com/tipline/tipline/internal/tip"
)

// exportLimit bounds one export; narrow the query for more.
const exportLimit = 10000

// export answers GET /api/v1/export with the search's parameters: the matching tips the user
// may see as CSV, UTF-8 with a byte-order mark so that Excel shows the Chinese correctly.
func (a *api) export(w http.ResponseWriter, r *http.Request) {
	q, err := scopedQuery(r)
	if err != nil {
		writeDeskError(w, a.refuseSearch(r, q, err))
		return
	}
	q.Sort, q.Size, q.NoFacets = "date", index.MaxPageSize, true
	var rows [][]string
	for q.Page = 1; len(rows) < exportLimit; q.Page++ {
		res, err := a.engine.Search(r.Context(), q)
		if err != nil {
			writeDeskError(w, a.refuseSearch(r, q, err))
			return
		}
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		tips, err := a.engine.GetMany(r.Context(), ids)
		if err != nil {
			a.log.Error("export failed", "err", err)
			writeError(w, http.StatusInternalServerError, "export failed")
			return
		}
		for _, t := range tips {
			category := ""
			if t.Verdict != nil {
				category = string(t.Verdict.Category)
			}
			var ents []string
			for _, e := range t.Entities {
				ents = append(ents, e.Kind+":"+e.Value)
			}
			rows = append(rows, []string{t.ID, t.ReceivedAt.In(tip.China).Format("2006-01-02 15:04"), string(t.Office), t.Office.Name(),
				category, string(t.Source), strings.Join(ents, " "), t.Text})
		}
		if len(res.Hits) < q.Size || (q.Page*q.Size) >= index.MaxOffset {
			break
		}
	}
	if err := a.audit(r, "export", "", map[string]any{"filters": r.URL.Query().Encode(), "rows": len(rows)}); err != nil {
		writeError(w, http.StatusServiceUnavailable, "audit log unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="tipline-export.csv"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"编号", "收到时间", "受理单位代码", "受理单位", "类别", "渠道", "实体", "内容"})
	for _, row := range rows {
		_ = cw.Write(csvSafe(row))
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: tips are written by anyone.
func csvSafe(row []string) []string {
	out := make([]string, len(row))
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			c = "'" + c
		}
		out[i] = c
	}
	return out
}
