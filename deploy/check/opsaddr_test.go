package check

import (
	"bytes"
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// tipline's ops listener (/metrics, /healthz, /readyz) is on loopback unless told otherwise
// (issue 19, finding 10). Every deployment whose probes or Prometheus reach it from outside the
// process's network namespace must say --ops-addr or TIPLINE_OPS_ADDR itself, on the port they
// use. These tests fail if one of them relies on the default.

// opsAddr is the ops address args or env set, "" when neither does.
func opsAddr(args []string, env map[string]string) string {
	if i := slices.Index(args, "--ops-addr"); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--ops-addr="); ok {
			return v
		}
	}
	return env["TIPLINE_OPS_ADDR"]
}

// reachable reports whether addr listens beyond loopback on port.
func reachable(addr, port string) bool {
	host, p, err := net.SplitHostPort(addr)
	if err != nil || p != port {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

func TestComposeSetsTheOpsAddress(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../compose.yaml"}, cli.WithName("tipline"))
	if err != nil {
		t.Fatal(err)
	}
	project, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ingest", "ocr", "classify", "index"} {
		svc := project.Services[name]
		env := map[string]string{}
		for k, v := range svc.Environment {
			if v != nil {
				env[k] = *v
			}
		}
		if addr := opsAddr(svc.Command, env); !reachable(addr, "8082") {
			t.Errorf("compose service %s: ops address %q; Prometheus scrapes it on :8082", name, addr)
		}
	}
	b, err := os.ReadFile("../prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "port: 8082") {
		t.Error("prometheus.yml does not scrape port 8082")
	}
}

func TestKubernetesSetsTheOpsAddress(t *testing.T) {
	resMap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), "../k8s")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	type container struct {
		Args    []string `yaml:"args"`
		EnvFrom []struct {
			ConfigMapRef struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		Env []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
	}
	var doc struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
		Spec struct {
			Template struct {
				Spec struct {
					Containers []container `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	configMaps := map[string]map[string]string{}
	deployments := map[string]container{}
	for _, raw := range bytes.Split(out, []byte("\n---\n")) {
		doc.Kind, doc.Data, doc.Spec.Template.Spec.Containers = "", nil, nil
		if err := yaml.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ConfigMap":
			configMaps[doc.Metadata.Name] = doc.Data
		case "Deployment":
			if len(doc.Spec.Template.Spec.Containers) > 0 {
				deployments[doc.Metadata.Name] = doc.Spec.Template.Spec.Containers[0]
			}
		}
	}
	for _, name := range []string{"ingest", "ocr", "classify", "index"} {
		c, ok := deployments[name]
		if !ok {
			t.Errorf("no Deployment %s", name)
			continue
		}
		env := map[string]string{}
		for _, from := range c.EnvFrom {
			for k, v := range configMaps[from.ConfigMapRef.Name] {
				env[k] = v
			}
		}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if addr := opsAddr(c.Args, env); !reachable(addr, "8082") {
			t.Errorf("Deployment %s: ops address %q; its probes and the PodMonitor use the ops port 8082", name, addr)
		}
		if !slices.ContainsFunc(c.Ports, func(p struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		}) bool {
			return p.Name == "ops" && p.ContainerPort == 8082
		}) {
			t.Errorf("Deployment %s: no ops port 8082", name)
		}
	}
}

func TestDockerfileSetsTheOpsAddress(t *testing.T) {
	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	stages, _, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	env, health := map[string]string{}, ""
	for _, cmd := range stages[len(stages)-1].Commands {
		switch c := cmd.(type) {
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.HealthCheckCommand:
			health = strings.Join(c.Health.Test, " ")
		}
	}
	if addr := env["TIPLINE_OPS_ADDR"]; !reachable(addr, "8082") {
		t.Errorf("the image's ops address %q; it exposes 8082 to probes and Prometheus", addr)
	}
	if !strings.Contains(health, "127.0.0.1:8082/readyz") {
		t.Errorf("health check %q does not ask the ops listener", health)
	}
}
