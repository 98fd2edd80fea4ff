// Layer 1: strict decoding of the YAML stream into the k8s.io/api types, as the API
// server's fieldValidation=Strict does it (the scheme of known kinds, the strict decoder,
// and the object each document becomes).

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// object is one decoded document.
type object struct {
	where     string // file and document number
	kind      string
	name      string
	namespace string
	obj       runtime.Object
}

func (o *object) String() string { return fmt.Sprintf("%s: %s/%s", o.where, o.kind, o.name) }

// apiVersion names the Kubernetes API the types come from: k8s.io/api's version in go.mod.
var apiVersion = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/api" {
				return "k8s.io/api " + dep.Version
			}
		}
	}
	return "k8s.io/api"
}()

var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, rbacv1.AddToScheme,
		policyv1.AddToScheme, networkingv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// The strict decoder: unknown and duplicate fields are errors (the API server's
// fieldValidation=Strict).
var decoder = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeAll splits a multi-document YAML stream and decodes each document strictly.
func decodeAll(in input) ([]*object, []string) {
	var objs []*object
	var problems []string
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(in.data)))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		where := fmt.Sprintf("%s#%d", in.name, n)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", where, err))
			break
		}
		// Duplicate keys are an error (sigs.k8s.io/yaml's strict conversion).
		js, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: not valid YAML: %v", where, err))
			continue
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || string(t) == "null" {
			continue // only comments (helm's "# Source:" lines of an empty template)
		}
		var tm metav1.TypeMeta
		if err := json.Unmarshal(js, &tm); err != nil {
			problems = append(problems, fmt.Sprintf("%s: not an object: %v", where, err))
			continue
		}
		if tm.APIVersion == "" || tm.Kind == "" {
			problems = append(problems, fmt.Sprintf("%s: apiVersion and kind are required", where))
			continue
		}
		obj, _, err := decoder.Decode(js, nil, nil)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %s %s: %v", where, tm.APIVersion, tm.Kind, err))
			continue
		}
		acc, ok := obj.(metav1.Object)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: %s has no metadata", where, tm.Kind))
			continue
		}
		objs = append(objs, &object{where, tm.Kind, acc.GetName(), acc.GetNamespace(), obj})
	}
	return objs, problems
}
