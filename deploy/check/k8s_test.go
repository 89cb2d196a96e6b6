package check

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestKubernetesManifests builds deploy/k8s with kustomize (the library kubectl -k uses) and
// decodes every built-in resource strictly into the Kubernetes API's own types: an unknown or
// misspelt field, a wrong type or a duplicate key fails. The operators' resources (Strimzi,
// Prometheus operator) are checked for the fields those operators need. Then it checks what
// the issue asks of the deployment.
func TestKubernetesManifests(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resMap, err := k.Run(filesys.MakeFsOnDisk(), "../k8s")
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	out, err := resMap.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	kinds := map[string]int{}
	deployments := map[string]*appsv1.Deployment{}
	policies := map[string]*networkingv1.NetworkPolicy{}
	var custom []map[string]any
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var head struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatal(err)
		}
		kinds[head.Kind]++
		if strings.Contains(head.APIVersion, "strimzi.io") || strings.Contains(head.APIVersion, "monitoring.coreos.com") {
			var obj map[string]any
			if err := yaml.Unmarshal(doc, &obj); err != nil {
				t.Fatal(err)
			}
			custom = append(custom, obj)
			continue
		}
		obj, gvk, err := strict.Decode(doc, nil, nil)
		if err != nil {
			t.Errorf("%s does not validate: %v", head.Kind, err)
			continue
		}
		if gvk.Kind != head.Kind {
			t.Errorf("decoded %s as %s", head.Kind, gvk.Kind)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			deployments[o.Name] = o
		case *networkingv1.NetworkPolicy:
			policies[o.Name] = o
		}
		_ = runtime.Object(obj)
	}
	for _, kind := range []string{"Namespace", "Deployment", "Service", "Ingress", "PersistentVolumeClaim", "NetworkPolicy",
		"ConfigMap", "Secret", "Kafka", "KafkaNodePool", "KafkaTopic", "PodMonitor", "PrometheusRule"} {
		if kinds[kind] == 0 {
			t.Errorf("no %s", kind)
		}
	}

	// Every part runs once, each with probes on /healthz and /readyz and the config.
	var roles []string
	for _, name := range []string{"ingest", "ocr", "classify", "index"} {
		d := deployments[name]
		if d == nil {
			t.Errorf("no Deployment %s", name)
			continue
		}
		c := d.Spec.Template.Spec.Containers[0]
		i := slices.Index(c.Args, "--roles")
		if i < 0 {
			t.Errorf("%s: args %v", name, c.Args)
			continue
		}
		roles = append(roles, strings.Split(c.Args[i+1], ",")...)
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" ||
			c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
			t.Errorf("%s lacks the /readyz and /healthz probes", name)
		}
		if c.Resources.Requests.Cpu().IsZero() || c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil {
			t.Errorf("%s lacks resource requests or a security context", name)
		}
		if !strings.HasPrefix(c.Image, "registry.example.org/tipline") {
			t.Errorf("%s image %q", name, c.Image)
		}
	}
	if !sameSet(roles, []string{"public", "letters", "email", "ocr", "classify", "index"}) {
		t.Errorf("roles across Deployments %v: each part must run exactly once", roles)
	}
	if d := deployments["index"]; d != nil {
		v := d.Spec.Template.Spec.Volumes
		if !slices.ContainsFunc(v, func(v corev1.Volume) bool {
			return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "tipline-index"
		}) {
			t.Error("the indexer has no persistent volume")
		}
	}

	// The analyst side is closed to the public ingress; the public side is open to it.
	analyst := policies["analyst"]
	if analyst == nil || analyst.Spec.PodSelector.MatchLabels["app.kubernetes.io/component"] != "index" {
		t.Fatal("no NetworkPolicy for the analyst pods")
	}
	for _, rule := range analyst.Spec.Ingress {
		for _, peer := range rule.From {
			if peer.NamespaceSelector == nil || peer.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] == "ingress-nginx" ||
				len(peer.NamespaceSelector.MatchLabels) == 0 || peer.IPBlock != nil {
				t.Errorf("the analyst policy admits %+v", peer)
			}
		}
	}
	if policies["default-deny-ingress"] == nil {
		t.Error("no default deny")
	}

	// The Prometheus operator's rules are the alert rules file, unchanged.
	var alerts map[string]any
	b, err := os.ReadFile("../prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &alerts); err != nil {
		t.Fatal(err)
	}
	for _, obj := range custom {
		spec, _ := obj["spec"].(map[string]any)
		switch obj["kind"] {
		case "PrometheusRule":
			if !reflect.DeepEqual(spec["groups"], alerts["groups"]) {
				t.Error("deploy/k8s/prometheus-rule.yaml differs from deploy/prometheus/alerts.yml: regenerate it")
			}
		case "KafkaTopic":
			if spec["partitions"] == nil || spec["replicas"] == nil {
				t.Errorf("KafkaTopic %v without partitions or replicas", obj["metadata"])
			}
		case "Kafka":
			if spec["kafka"] == nil {
				t.Error("Kafka without spec.kafka")
			}
		case "KafkaNodePool":
			if spec["replicas"] == nil || spec["roles"] == nil || spec["storage"] == nil {
				t.Error("KafkaNodePool without replicas, roles or storage")
			}
		case "PodMonitor":
			if spec["selector"] == nil || spec["podMetricsEndpoints"] == nil {
				t.Error("PodMonitor without selector or endpoints")
			}
		}
	}
}
