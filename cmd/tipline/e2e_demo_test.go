package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// tipline serve --demo fills an empty desk: every office and channel, all six categories, and
// tips linked by the same app and phone number across offices.
func TestDemoDesk(t *testing.T) {
	inst := start(t, t.TempDir(), "--demo", "300")
	waitSearchable(t, inst.analyst, 300, 2*time.Minute)
	r := search(t, inst.analyst, url.Values{"size": {"1"}})
	var facets struct {
		Facets map[string]map[string]int `json:"facets"`
	}
	resp, err := http.Get(inst.analyst + "/api/v1/search?size=1")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&facets)
	resp.Body.Close()
	if r.Total != 300 || len(facets.Facets["office"]) != 12 || len(facets.Facets["source"]) < 5 || len(facets.Facets["category"]) < 6 {
		t.Fatalf("demo desk: %d tips, facets %v", r.Total, facets.Facets)
	}
	loans := search(t, inst.analyst, url.Values{"entity": {"app:闪电借"}, "size": {"1"}})
	if loans.Total < 10 {
		t.Fatalf("%d tips name the loan app", loans.Total)
	}
	resp, err = http.Get(inst.analyst + "/api/v1/tips/" + loans.Hits[0].ID + "/related")
	if err != nil {
		t.Fatal(err)
	}
	var rel struct {
		Related []struct {
			Kind  string `json:"kind"`
			Total int    `json:"total"`
		} `json:"related"`
	}
	json.NewDecoder(resp.Body).Decode(&rel)
	resp.Body.Close()
	linked := 0
	for _, r := range rel.Related {
		linked += r.Total
	}
	if linked < 10 {
		t.Errorf("related tips of a demo tip: %+v", rel)
	}
	// The gangs show up as clusters: an app or number named by many tips from many offices.
	resp, err = http.Get(inst.analyst + "/api/v1/clusters?size=5")
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		Clusters []struct {
			Value   string         `json:"value"`
			Tips    int            `json:"tips"`
			Offices map[string]int `json:"offices"`
		} `json:"clusters"`
	}
	json.NewDecoder(resp.Body).Decode(&cl)
	resp.Body.Close()
	if len(cl.Clusters) != 5 || cl.Clusters[0].Tips < 20 || len(cl.Clusters[0].Offices) < 4 {
		t.Errorf("clusters %+v", cl.Clusters)
	}
}
