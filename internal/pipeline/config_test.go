package pipeline

import (
	"strings"
	"testing"

	"github.com/tipline/tipline/internal/bus"
)

func validConfig() Config {
	return Config{DataDir: "data", OpsAddr: "127.0.0.1:0", AnalystAddr: "127.0.0.1:8081", Topics: bus.DefaultTopics(), GroupPrefix: "tipline"}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string // in the error; empty: valid
	}{
		{"all in one", func(*Config) {}, ""},
		{"no data folder", func(c *Config) { c.DataDir = "" }, "--data-dir is required"},
		{"unknown role", func(c *Config) { c.Roles, c.Kafka = []string{"search"}, []string{"k:9092"} }, `unknown role "search"`},
		{"roles without a cluster", func(c *Config) { c.Roles = []string{RoleIndex} }, "need a Kafka cluster"},
		{"analysts beyond loopback", func(c *Config) { c.AnalystAddr = ":8081" }, "stays on a loopback address"},
		{"analysts beyond loopback, allowed", func(c *Config) { c.AnalystAddr, c.AnalystRemote = ":8081", true }, ""},
		{"analysts on localhost", func(c *Config) { c.AnalystAddr = "localhost:8081" }, ""},
		{"no analysts' listener", func(c *Config) { c.AnalystAddr = "" }, ""},
		{"a topic unnamed", func(c *Config) { c.Topics.Classified = "" }, "topic names must not be empty"},
		// The e-mail stage on its own reads and writes neither the classified nor the dead-letter topic.
		{"a stage without the topics it does not use", func(c *Config) {
			c.Roles, c.Kafka, c.Topics = []string{RoleEmail}, []string{"k:9092"}, bus.Topics{OCR: "tips.ocr", Raw: "tips.raw"}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}

// The analysts' listener is refused beyond loopback because the desk is open until the first
// account exists, not because it has no authentication: the error says so.
func TestAnalystAddrErrorSaysWhy(t *testing.T) {
	c := validConfig()
	c.AnalystAddr = "0.0.0.0:8081"
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), "no authentication") || !strings.Contains(err.Error(), "--analyst-allow-remote") ||
		!strings.Contains(err.Error(), "first account") {
		t.Errorf("error %v", err)
	}
}

func TestRuns(t *testing.T) {
	all := Config{}
	some := Config{Roles: []string{RolePublic, RoleLetters}}
	for _, r := range Roles() {
		if !all.Runs(r) {
			t.Errorf("no roles given: %s not run", r)
		}
	}
	if !some.Runs(RoleLetters) || some.Runs(RoleIndex) || !some.runsAny(RoleIndex, RolePublic) {
		t.Error("roles given: Runs does not follow them")
	}
}
