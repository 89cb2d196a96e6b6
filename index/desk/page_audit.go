package desk

import (
	"cmp"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"

	"github.com/tipline/tipline/internal/account"
	"github.com/tipline/tipline/internal/audit"
	"github.com/tipline/tipline/internal/tip"
)

type auditData struct {
	frame
	Entries    []audit.Entry
	ByUser     string // filters
	Action     string
	Target     string
	Total      int
	Chained    int64 // entries in the whole log, all checked
	ChainOK    bool
	ChainErr   string
	Prev, Next string
	// Whole is true for a reader of every office; others are not told the log's size (its
	// entry numbers, how many entries the chain holds, the line where it broke): they count the
	// other offices' actions.
	Whole bool
}

const auditPageSize = 100

// auditPage lets admins browse the audit log, newest first, by user, action or target, with
// the chain checked on every look. An admin of one office reads only the entries about their
// office's tips and their office's users (audit.Entry.VisibleTo); of the city or all, every one.
func (p *pages) auditPage(w http.ResponseWriter, r *http.Request) {
	if u, ok := account.FromContext(r.Context()); (ok && u.Role != account.RoleAdmin) || (!ok && !p.gate.Open()) {
		p.fail(w, r, refusal(http.StatusForbidden, "只有管理员可以查看审计日志。"))
		return
	}
	if p.auditPath == "" {
		p.fail(w, r, refusal(http.StatusServiceUnavailable, "这个进程没有审计日志。"))
		return
	}
	v := r.URL.Query()
	d := auditData{frame: p.frame(w, r, "审计日志"), ByUser: v.Get("user"), Action: v.Get("action"), Target: v.Get("target")}
	page, err := strconv.Atoi(cmp.Or(v.Get("page"), "1"))
	if err != nil || page < 1 || page > 100000 {
		p.fail(w, r, refusal(http.StatusBadRequest, "页码应为正整数。"))
		return
	}
	// One pass reads the entries and checks the chain; a broken chain still shows the entries
	// before the break, and says where it broke.
	var match []audit.Entry
	offices := officeCodes(userOffices(r))
	d.Whole = offices == nil
	d.Chained, err = audit.Scan(p.auditPath, func(e audit.Entry) {
		if e.VisibleTo(offices) && (d.ByUser == "" || e.User == d.ByUser) && (d.Action == "" || e.Action == d.Action) && (d.Target == "" || e.Target == d.Target) {
			match = append(match, e)
		}
	})
	switch {
	case err == nil, errors.Is(err, os.ErrNotExist):
		d.ChainOK = true
	case errors.Is(err, audit.ErrBroken) && d.Whole:
		d.ChainErr = err.Error()
	case errors.Is(err, audit.ErrBroken):
		d.ChainErr = "请全市管理员核查。"
	default:
		p.api.log.Error("audit log not readable", "err", err)
		p.fail(w, r, refusal(http.StatusServiceUnavailable, "审计日志读不出来"))
		return
	}
	if !d.Whole {
		d.Chained = 0
		for i := range match {
			match[i].Seq, match[i].Prev, match[i].Hash = 0, "", ""
		}
	}
	slices.Reverse(match)
	d.Total = len(match)
	start := (page - 1) * auditPageSize
	d.Entries = match[min(start, len(match)):min(start+auditPageSize, len(match))]
	if page > 1 {
		d.Prev = "/audit?" + withParam(v, "page", strconv.Itoa(page-1))
	}
	if start+auditPageSize < len(match) {
		d.Next = "/audit?" + withParam(v, "page", strconv.Itoa(page+1))
	}
	p.render(w, http.StatusOK, "audit.html", d)
}

// officeCodes is offices as strings; nil (every office) stays nil.
func officeCodes(offices []tip.Office) []string {
	if offices == nil {
		return nil
	}
	out := make([]string, len(offices))
	for i, o := range offices {
		out[i] = string(o)
	}
	return out
}
