package throttle

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestPerKeyLetsAHumanPaceThrough(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	p := New(1.0/3, 5) // one every 3 s after a burst of 5
	p.now = func() time.Time { return now }
	for i := range 5 {
		if ok, _ := p.Allow("10.0.0.1"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := p.Allow("10.0.0.1")
	if ok || wait <= 0 || wait > 3*time.Second {
		t.Fatalf("6th request: ok=%v retry after %v; want refused, retry within 3 s", ok, wait)
	}
	if ok, _ := p.Allow("10.0.0.2"); !ok {
		t.Fatal("another address was refused")
	}
	// A person behind the same address who waits as long as they were told gets through.
	now = now.Add(wait)
	if ok, _ := p.Allow("10.0.0.1"); !ok {
		t.Fatal("request after the advised wait refused")
	}
	now = now.Add(time.Hour)
	p.Allow("10.0.0.3")
	if n := p.Len(); n != 1 {
		t.Fatalf("%d addresses remembered after an idle hour; want only the one just seen", n)
	}
}

func TestClientAddr(t *testing.T) {
	trusted, err := ParsePrefixes("127.0.0.1, 10.1.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.9:5000", "", "203.0.113.9"},
		{"203.0.113.9:5000", "1.2.3.4", "203.0.113.9"}, // untrusted peer: header ignored
		{"127.0.0.1:5000", "198.51.100.7", "198.51.100.7"},
		{"127.0.0.1:5000", "6.6.6.6, 198.51.100.7, 10.1.2.3", "198.51.100.7"}, // spoofed first hop ignored
		{"127.0.0.1:5000", "garbage", "127.0.0.1"},
		{"[::ffff:127.0.0.1]:5000", "198.51.100.7", "198.51.100.7"},
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := ClientAddr(r, trusted); got != tc.want {
			t.Errorf("remote %s, XFF %q: %s; want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
