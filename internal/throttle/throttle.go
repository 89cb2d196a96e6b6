// Package throttle limits how fast each client address may act (submit a tip, try a receipt,
// log in), with token buckets from golang.org/x/time/rate. Addresses live only in memory and
// are forgotten once their bucket is full again.
package throttle

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// PerKey is a token bucket per key: Burst actions at once, then one every 1/Rate seconds.
type PerKey struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	swept   time.Time
}

// New returns a limiter allowing perSecond actions per key on average and burst at once.
func New(perSecond float64, burst int) *PerKey {
	return &PerKey{limit: rate.Limit(perSecond), burst: max(burst, 1), now: time.Now, buckets: map[string]*rate.Limiter{}}
}

// Allow takes a token for key; when there is none it says how long until there is.
func (p *PerKey) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweep(now)
	l, found := p.buckets[key]
	if !found {
		l = rate.NewLimiter(p.limit, p.burst)
		p.buckets[key] = l
	}
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets keys whose bucket has refilled, at most once a minute, so memory holds only
// the addresses that acted recently.
func (p *PerKey) sweep(now time.Time) {
	if now.Sub(p.swept) < time.Minute {
		return
	}
	p.swept = now
	for k, l := range p.buckets {
		if l.TokensAt(now) >= float64(p.burst) {
			delete(p.buckets, k)
		}
	}
}

// Len is the number of addresses remembered.
func (p *PerKey) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.buckets)
}

// ClientAddr is the address a request came from: the peer, or, when the peer is a trusted
// reverse proxy, the last address in X-Forwarded-For that is not one of the proxies (earlier
// entries are whatever the client chose to send).
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r.RemoteAddr)
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return peer.String()
}

// ViaTrustedProxy reports whether the request's peer is one of the trusted proxies, whose
// X-Forwarded-* headers may be believed.
func ViaTrustedProxy(r *http.Request, trusted []netip.Prefix) bool {
	return isTrusted(peerAddr(r.RemoteAddr), trusted)
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads a comma-separated list of addresses and CIDR prefixes.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
