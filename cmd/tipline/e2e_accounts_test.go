package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Accounts through the binary: tipline user add prints a token the analysts' side then
// requires; each user sees their office's tips; the audit log records the searches and views,
// and tipline audit verify finds an entry changed afterwards.
func TestAccountsAndAuditThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	add := func(name, role, office string) string {
		out, err := exec.Command(binary(t), "user", "add", name, "--role", role, "--office", office, "--data-dir", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("user add %s: %v %s", name, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	liunan := add("wei.liunan", "analyst", "liunan")
	city := add("zhang.city", "supervisor", "city")
	inst := start(t, dir)
	for i, office := range []string{"liunan", "yufeng", "liunan"} {
		resp, err := http.Post(inst.public+"/api/v1/tips", "application/json",
			strings.NewReader(`{"text":"有人放高利贷暴力催收，第`+string(rune('1'+i))+`件","office":"`+office+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get := func(token, path string) int {
		req, _ := http.NewRequest("GET", inst.analyst+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("", "/api/v1/search?q=高利贷"); code != http.StatusUnauthorized {
		t.Fatalf("search without a token: %d", code)
	}
	waitSearchableAs(t, inst.analyst, city, 3, time.Minute)
	if r := searchAs(t, inst.analyst, liunan, "q=高利贷"); r.Total != 2 {
		t.Errorf("柳南's analyst sees %d tips; want its 2", r.Total)
	}
	// An officer types in a tip taken by phone: same fields, channel phone, the officer recorded.
	req, _ := http.NewRequest("POST", inst.analyst+"/api/v1/intake", strings.NewReader(
		`{"channel":"phone","text":"来电：有人冒充网贷平台催收，天天打电话骚扰","office":"liunan","reporter":{"name":"来电人","phone":"13912345678"}}`))
	req.Header.Set("Authorization", "Bearer "+liunan)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var taken map[string]string
	decodeJSON(t, resp, &taken)
	if resp.StatusCode != http.StatusCreated || taken["receipt"] == "" {
		t.Fatalf("officer intake: %d %v", resp.StatusCode, taken)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		req, _ = http.NewRequest("GET", inst.analyst+"/api/v1/tips/"+taken["id"], nil)
		req.Header.Set("Authorization", "Bearer "+liunan)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 200 {
			var tp struct {
				Source    string `json:"source"`
				SourceRef string `json:"source_ref"`
				Reporter  struct {
					Sealed string `json:"sealed"`
				} `json:"reporter"`
			}
			decodeJSON(t, resp, &tp)
			if tp.Source != "phone" || tp.SourceRef != "officer:wei.liunan" || tp.Reporter.Sealed == "" {
				t.Errorf("phone tip %+v", tp)
			}
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the phone tip never became visible")
		}
	}
	inst.stop(t, syscall.SIGTERM)

	out, err := exec.Command(binary(t), "audit", "verify", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "audit log intact") {
		t.Fatalf("verify: %v %s", err, out)
	}
	path := filepath.Join(dir, "audit.log")
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) < 3 || !strings.Contains(string(b), `"user":"wei.liunan"`) {
		t.Fatalf("audit log:\n%s", b)
	}
	// Someone hides that 柳南's analyst searched: the entry now names another user.
	for i, l := range lines {
		if strings.Contains(l, `"user":"wei.liunan"`) {
			lines[i] = strings.Replace(l, `"user":"wei.liunan"`, `"user":"zhang.city"`, 1)
			os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
			out, err := exec.Command(binary(t), "audit", "verify", "--data-dir", dir).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "chain broken at line "+itoa(i+1)) {
				t.Fatalf("verify after tampering with line %d: %v %s", i+1, err, out)
			}
			return
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// searchAs searches the analysts' API with a user's token.
func searchAs(t *testing.T, base, token, query string) searchResult {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/search?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var r searchResult
	decodeJSON(t, resp, &r)
	return r
}

// waitSearchableAs waits until the signed-in search counts want tips.
func waitSearchableAs(t *testing.T, base, token string, want uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := searchAs(t, base, token, "size=1")
		if r.Total >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d tips searchable after %v", r.Total, want, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
