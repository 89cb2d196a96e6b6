package tip

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func valid() *Tip {
	now := time.Date(2026, 3, 27, 18, 30, 0, 0, time.UTC)
	return &Tip{Version: SchemaVersion, ID: NewIDs().New(now), ReceivedAt: now, Source: SourceWeb, Text: "线索"}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Tip)
		want   error
	}{
		{"valid", func(*Tip) {}, nil},
		{"newer schema", func(t *Tip) { t.Version = SchemaVersion + 1 }, ErrVersion},
		{"bad id", func(t *Tip) { t.ID = "42" }, ErrInvalid},
		{"no time", func(t *Tip) { t.ReceivedAt = time.Time{} }, ErrInvalid},
		{"unknown source", func(t *Tip) { t.Source = "fax" }, ErrInvalid},
		{"unknown office", func(t *Tip) { t.Office = "beijing" }, ErrInvalid},
		{"invalid UTF-8", func(t *Tip) { t.Text = "\xff" }, ErrInvalid},
		{"unknown category", func(t *Tip) { t.Verdict = &Verdict{Category: "fraud"} }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := valid()
			tt.change(tp)
			if err := tp.Validate(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tp := valid()
	tp.Office = Liunan
	tp.Verdict = &Verdict{Category: Sextortion, Score: 7, Matches: []Match{{Term: "裸聊", Category: Sextortion, Weight: 4, Start: 0, End: 6}}, RulesVersion: "r1"}
	b, err := Marshal(tp)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tp.ID || !got.ReceivedAt.Equal(tp.ReceivedAt) || got.Verdict.Matches[0].Term != "裸聊" || got.Office != Liunan {
		t.Errorf("round trip changed the tip: %+v", got)
	}
	if _, err := Unmarshal([]byte("{")); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed: %v", err)
	}
}

func TestIDsAreTimeOrderedAndUnique(t *testing.T) {
	g := NewIDs()
	at := time.Now()
	prev := ""
	for range 10000 {
		id := g.New(at) // the same millisecond: still strictly increasing
		if id <= prev {
			t.Fatalf("%s after %s", id, prev)
		}
		prev = id
	}
	later := g.New(at.Add(time.Second))
	if later <= prev {
		t.Errorf("a later tip sorts first")
	}
}

func TestCodes(t *testing.T) {
	if len(Categories()) != 6 || len(AllCategories()) != 7 || len(Offices()) != 12 {
		t.Fatal("the seed names six categories and twelve offices")
	}
	for _, o := range Offices() {
		if !o.Valid() || o.Name() == "" {
			t.Errorf("office %s has no name", o)
		}
	}
	for _, c := range AllCategories() {
		if !c.Valid() || c.Name() == "" {
			t.Errorf("category %s has no name", c)
		}
	}
	if !strings.Contains(City.Name(), "扫黑办") {
		t.Errorf("city office name %q", City.Name())
	}
}

func FuzzUnmarshal(f *testing.F) {
	b, _ := Marshal(valid())
	f.Add(b)
	f.Add([]byte(`{"v":1,"id":"01ARZ3NDEKTSV4RRFFQ69G5FAV","received_at":"2026-01-01T00:00:00Z","source":"web","text":"\ud800"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, err := Unmarshal(b)
		if err != nil {
			return
		}
		if err := tp.Validate(); err != nil {
			t.Fatalf("Unmarshal accepted an invalid tip: %v", err)
		}
		again, err := Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Unmarshal(again); err != nil {
			t.Fatalf("a tip that decoded does not decode after encoding: %v", err)
		}
	})
}
