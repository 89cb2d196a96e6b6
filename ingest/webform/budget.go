package webform

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tipline/tipline/internal/throttle"
)

// uploadBudget is how many bytes each client address may send in submissions: a token bucket
// in bytes (golang.org/x/time/rate, as internal/throttle counts requests), full at the start,
// refilled at the budget per window. Bytes are taken as the body streams in, so an upload that
// runs over stops there instead of after the whole body was read and stored. Addresses live
// only in memory and are forgotten once their bucket is full again.
type uploadBudget struct {
	limit  rate.Limit // bytes per second
	burst  int        // bytes: the budget
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
}

// budgetChunk is the most one read takes from the client before it is counted: a refused
// upload reads at most this much past its budget.
const budgetChunk = 32 << 10

func newUploadBudget(bytes int64, window time.Duration) *uploadBudget {
	if bytes <= 0 {
		return nil // no budget
	}
	return &uploadBudget{limit: rate.Limit(float64(bytes) / window.Seconds()), burst: int(max(bytes, budgetChunk)),
		window: window, now: time.Now, buckets: map[string]*rate.Limiter{}}
}

func (b *uploadBudget) bucket(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) >= time.Minute {
		b.swept = now
		for k, l := range b.buckets {
			if l.TokensAt(now) >= float64(b.burst) {
				delete(b.buckets, k)
			}
		}
	}
	l, ok := b.buckets[key]
	if !ok {
		l = rate.NewLimiter(b.limit, b.burst)
		b.buckets[key] = l
	}
	return l
}

// wait is how long until l holds want bytes again (at most a full bucket).
func (b *uploadBudget) wait(l *rate.Limiter, want int64, now time.Time) time.Duration {
	missing := float64(min(want, int64(b.burst))) - l.TokensAt(now)
	if missing <= 0 {
		return time.Second
	}
	return time.Duration(missing / float64(b.limit) * float64(time.Second))
}

// overBudget is the error a budgeted body returns once its address has sent its budget.
type overBudget struct {
	budget int64
	window time.Duration
	wait   time.Duration
}

func (e *overBudget) Error() string { return "webform: upload budget of the client address spent" }

// rejection is what the citizen reads: how much, per how long, and when to come back.
func (e *overBudget) rejection() *rejection {
	window := "小时"
	if e.window != time.Hour {
		window = " " + spell(e.window)
	}
	rej := reject(http.StatusTooManyRequests, reasonBudget,
		"从您所在的网络地址上传的内容已超过每%s %d MB 的上限（同一网络下其他人的上传也计算在内），请 %s后再试；其余文件可以稍后凭回执码补充。情况紧急请拨打 110。",
		window, e.budget>>20, spell(e.wait))
	rej.retryAfter = e.wait
	return rej
}

// spell writes a duration the way the page says it: 2 小时, 25 分钟, 40 秒.
func spell(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d 小时", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%d 分钟", int((d+time.Minute-1)/time.Minute))
	}
	return fmt.Sprintf("%d 秒", max(int((d+time.Second-1)/time.Second), 1))
}

// setRetryAfter says in whole seconds, rounded up, when a refusal that names a wait is over.
func setRetryAfter(w http.ResponseWriter, rej *rejection) {
	if rej.retryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(rej.retryAfter.Seconds()+0.999)))
	}
}

// budgetedBody takes every byte read from the client out of its address's bucket.
type budgetedBody struct {
	io.ReadCloser
	b    *uploadBudget
	l    *rate.Limiter
	want int64 // what to wait for when refused: this request's size, or 1 MiB
	err  error
}

func (r *budgetedBody) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) > budgetChunk {
		p = p[:budgetChunk]
	}
	n, err := r.ReadCloser.Read(p)
	if n > 0 {
		now := r.b.now()
		if !r.l.AllowN(now, n) {
			r.err = &overBudget{budget: int64(r.b.burst), window: r.b.window, wait: r.b.wait(r.l, r.want, now)}
			return 0, r.err
		}
	}
	return n, err
}

// budgeted counts the request's body against its address's upload budget: a request whose
// declared size is over what is left is refused before a byte is read, and one that runs over
// while streaming stops there.
func (s *Server) budgeted(next http.HandlerFunc) http.HandlerFunc {
	if s.budget == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.budget.now()
		l := s.budget.bucket(throttle.ClientAddr(r, s.protect.TrustedProxies), now)
		want := max(r.ContentLength, 1<<20)
		if r.ContentLength > 0 && l.TokensAt(now) < float64(r.ContentLength) {
			rej := (&overBudget{budget: int64(s.budget.burst), window: s.budget.window, wait: s.budget.wait(l, want, now)}).rejection()
			s.countRefusal(rej)
			w.Header().Set("Connection", "close") // the body is not read
			s.answerRefusal(w, r, rej)
			return
		}
		r.Body = &budgetedBody{ReadCloser: r.Body, b: s.budget, l: l, want: want}
		next(w, r)
	}
}

// answerRefusal writes a refusal that comes before any page of the form can be shown again:
// JSON for the API, a message page for the pages.
func (s *Server) answerRefusal(w http.ResponseWriter, r *http.Request, rej *rejection) {
	setRetryAfter(w, rej)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, rej.status, map[string]string{"error": rej.msg, "code": rej.reason})
		return
	}
	s.render(w, rej.status, "message.html", messagePage{Title: "请稍后再试",
		Message: rej.msg + "您填写的内容还在上一页：请用浏览器的“返回”回到上一页，稍后再提交。"})
}
