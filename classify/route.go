package classify

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tipline/tipline/internal/tip"
)

//go:embed gazetteer.yaml
var defaultGazetteer []byte

// Gazetteer knows which office's jurisdiction each place of Liuzhou lies in.
type Gazetteer struct {
	Version   string                       `yaml:"version"`
	Offices   map[tip.Office]*Jurisdiction `yaml:"offices"`
	Ambiguous []AmbiguousPlace             `yaml:"ambiguous"`

	names   []string       // normalised, by pattern id
	offices [][]tip.Office // by pattern id: one office, or the candidates of an ambiguous name
	labels  []string       // by pattern id: the name as written
	fold    *folding
}

// Jurisdiction lists the names that point to one office.
type Jurisdiction struct {
	Names     []string `yaml:"names"`
	Places    []string `yaml:"places"`
	Short     []string `yaml:"short"`
	Landmarks []string `yaml:"landmarks"`
	Postcodes []string `yaml:"postcodes"`
}

// AmbiguousPlace is a name found in more than one jurisdiction, or also an ordinary word.
type AmbiguousPlace struct {
	Name    string       `yaml:"name"`
	Offices []tip.Office `yaml:"offices"`
	Why     string       `yaml:"why"`
}

// DefaultGazetteer returns the embedded gazetteer of the twelve jurisdictions.
func DefaultGazetteer() *Gazetteer {
	g, err := ParseGazetteer(defaultGazetteer)
	if err != nil {
		panic("classify: embedded gazetteer is invalid: " + err.Error())
	}
	return g
}

// ParseGazetteer decodes and compiles a gazetteer.
func ParseGazetteer(b []byte) (*Gazetteer, error) {
	var g Gazetteer
	if err := yaml.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("classify: gazetteer: %w", err)
	}
	g.fold = newFolding()
	ids := map[string]int{}
	add := func(name string, offices ...tip.Office) {
		n := g.fold.normalizeTerm(name)
		if n == "" {
			return
		}
		if id, ok := ids[n]; ok {
			// The same name in two jurisdictions is ambiguous whatever the file says.
			for _, o := range offices {
				if !slices.Contains(g.offices[id], o) {
					g.offices[id] = append(g.offices[id], o)
				}
			}
			return
		}
		ids[n] = len(g.names)
		g.names = append(g.names, n)
		g.offices = append(g.offices, slices.Clone(offices))
		g.labels = append(g.labels, name)
	}
	for _, o := range tip.Offices() {
		j := g.Offices[o]
		if j == nil {
			continue
		}
		for _, list := range [][]string{j.Names, j.Places, j.Short, j.Landmarks, j.Postcodes} {
			for _, name := range list {
				add(name, o)
			}
		}
	}
	for o := range g.Offices {
		if !o.Valid() {
			return nil, fmt.Errorf("classify: gazetteer: unknown office %q", o)
		}
	}
	for _, a := range g.Ambiguous {
		for _, o := range a.Offices {
			if !o.Valid() {
				return nil, fmt.Errorf("classify: gazetteer: %s: unknown office %q", a.Name, o)
			}
		}
		add(a.Name, a.Offices...)
		// An ambiguous entry overrides a plain one of the same name.
		id := ids[g.fold.normalizeTerm(a.Name)]
		for _, o := range a.Offices {
			if !slices.Contains(g.offices[id], o) {
				g.offices[id] = append(g.offices[id], o)
			}
		}
		if len(g.offices[id]) < 2 {
			g.offices[id] = append(g.offices[id], "") // still ambiguous: an ordinary word
		}
	}
	return &g, nil
}

// placeHit is an office a text points to, with the names that point there.
type placeHit struct {
	office tip.Office
	names  []string
}

// places lists the offices whose places the names found (gazetteer ids, in text order) point
// to, most named first, and the ambiguous names found.
func (g *Gazetteer) places(ids []int) (found []placeHit, ambiguous []string) {
	byOffice := map[tip.Office]*placeHit{}
	for _, id := range ids {
		label := g.labels[id]
		offices := g.offices[id]
		if len(offices) != 1 {
			if !slices.Contains(ambiguous, label) {
				ambiguous = append(ambiguous, label)
			}
			continue
		}
		// A name inside a longer one (柳江 in 柳江区) adds nothing new.
		ph := byOffice[offices[0]]
		if ph == nil {
			ph = &placeHit{office: offices[0]}
			byOffice[offices[0]] = ph
		}
		switch i := slices.IndexFunc(ph.names, func(n string) bool { return strings.Contains(n, label) || strings.Contains(label, n) }); {
		case i < 0:
			ph.names = append(ph.names, label)
		case len(label) > len(ph.names[i]):
			ph.names[i] = label // keep the fuller form: 进德镇 over 进德
		}
	}
	for _, o := range tip.Offices() { // in the seed's order, so ties resolve the same way every time
		if ph := byOffice[o]; ph != nil {
			found = append(found, *ph)
		}
	}
	slices.SortStableFunc(found, func(a, b placeHit) int { return len(b.names) - len(a.names) })
	return found, ambiguous
}

// Route gives t exactly one office and the reason. The channel's own office (mailbox, letter
// addressee, the citizen's choice) stands; otherwise the places named in the text decide; when
// they name several jurisdictions equally the tip goes to the city office with the candidates
// recorded, never a silent guess; with no place, the city office.
func (c *Classifier) Route(t *tip.Tip) {
	text, _ := prepare(t.Text)
	c.route(t, c.matcher.find(c.fold.views(text).squeezed, nil))
}

func (c *Classifier) route(t *tip.Tip, hits []hit) {
	if t.Office.Valid() {
		if t.Routing.Reason == "" {
			t.Routing.Reason = tip.RouteForm
		}
		return
	}
	var ids []int
	for _, h := range hits {
		for _, u := range c.uses[h.pattern] {
			if u.kind == usePlace {
				ids = append(ids, u.group)
			}
		}
	}
	found, ambiguous := c.places.places(ids)
	// The city office is where unplaced tips go anyway; a district is more specific.
	local := slices.DeleteFunc(slices.Clone(found), func(p placeHit) bool { return p.office == tip.City })
	switch {
	case len(local) == 1 || len(local) > 1 && len(local[0].names) > len(local[1].names):
		t.Office = local[0].office
		t.Routing = tip.Routing{Reason: tip.RoutePlace, Detail: strings.Join(local[0].names, "、")}
		if len(local) > 1 {
			for _, p := range local {
				t.Routing.Candidates = append(t.Routing.Candidates, p.office)
			}
			t.Routing.Detail += "（文中还提到其他辖区的地名）"
		}
	case len(local) > 1:
		t.Office = tip.City
		var names []string
		for _, p := range local {
			t.Routing.Candidates = append(t.Routing.Candidates, p.office)
			names = append(names, p.names...)
		}
		t.Routing.Reason = tip.RouteDefault
		t.Routing.Detail = "文中提到多个辖区的地名（" + strings.Join(names, "、") + "），交市局扫黑办分派"
	default:
		t.Office = tip.City
		t.Routing = tip.Routing{Reason: tip.RouteDefault}
		if len(ambiguous) > 0 {
			t.Routing.Detail = "文中地名有歧义（" + strings.Join(ambiguous, "、") + "），交市局扫黑办分派"
		}
	}
}
