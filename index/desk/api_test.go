package desk

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tipline/tipline/internal/tip"
)

// TestAPI: search with filters and dates, a tip by id, and refusals that say why.
func TestAPI(t *testing.T) {
	day := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	tips := []*tip.Tip{
		newTip("网友约我裸聊，录屏以后敲诈我五千元", tip.Sextortion, tip.Liunan, day),
		newTip("714高炮平台收砍头息，逾期后爆通讯录", tip.PredatoryLoan, tip.City, day.Add(24*time.Hour)),
		newTip("有人雇水军在网上控评 <script>alert(1)</script>", tip.TrollArmy, tip.Liunan, day.Add(48*time.Hour)),
	}
	idx := indexOf(t, tips...)
	srv := httptest.NewServer(deskMux(t, Config{}, idx, openGate(t), Deps{}))
	defer srv.Close()
	tests := []struct {
		path   string
		status int
		check  func(t *testing.T, body map[string]any)
	}{
		{"/api/v1/search?q=%E7%A0%8D%E5%A4%B4%E6%81%AF&office=city", 200, func(t *testing.T, b map[string]any) {
			hits := b["hits"].([]any)
			if b["total"].(float64) != 1 || hits[0].(map[string]any)["id"] != tips[1].ID {
				t.Errorf("body %v", b)
			}
		}},
		{"/api/v1/search?from=2026-03-02&to=2026-03-02", 200, func(t *testing.T, b map[string]any) {
			if b["total"].(float64) != 1 {
				t.Errorf("a plain date range should cover that day in UTC+8: %v", b)
			}
		}},
		{"/api/v1/search?office=nowhere", 400, nil},
		{"/api/v1/search?q=%22unclosed", 400, nil},
		{"/api/v1/search?page=x", 400, nil},
		{"/api/v1/tips/" + tips[0].ID, 200, func(t *testing.T, b map[string]any) {
			if b["text"] != tips[0].Text || b["office"] != "liunan" {
				t.Errorf("body %v", b)
			}
		}},
		{"/api/v1/tips/01ARZ3NDEKTSV4RRFFQ69G5FAV", 404, nil},
		{"/api/v1/tips/not-an-id", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.status, body)
			}
			if tt.status >= 400 && body["error"] == nil {
				t.Errorf("error response without an error field: %v", body)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}
