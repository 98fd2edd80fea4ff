// Command weft-manifest-check validates Kubernetes manifests offline, as deploy/check.sh
// runs it on `helm template` output of the Weft chart:
//
//	helm template weft deploy/helm/weft -f values.yaml | weft-manifest-check -external Secret/weft-db
//
// No cluster and no downloaded JSON schemas: the manifests are checked against the
// Kubernetes API types themselves (k8s.io/api, the version in go.mod), in three layers.
//
//  1. Decoding, as the API server's strict field validation does it: YAML with duplicate
//     keys is refused, every document must be a known apiVersion/kind, and every field
//     must exist in that type and have its type (a misspelt or misplaced field, a string
//     where an integer goes, a quantity that does not parse: all errors).
//  2. The API server's validation rules that charts get wrong, rewritten here (the real ones
//     live in k8s.io/kubernetes, which is not meant to be imported): object names, labels
//     and annotations (apimachinery's own validators), Deployment selectors that match
//     their template, Recreate without rollingUpdate, container and port names, env var
//     names and sources, volume mounts of declared volumes, one handler per probe and
//     successThreshold 1 for liveness and startup, limits not below requests, and so on.
//  3. References within the rendered set: every ConfigMap, Secret (and key), ServiceAccount,
//     Role, Service and named port a pod, Service, Ingress or RoleBinding refers to is
//     rendered too, or named with -external Kind/name (objects that exist before the
//     install, such as Secrets created by the user); every Service selects some pod
//     template.
//
// It prints one line per problem and exits 1 if there was any, else a summary.
//
// This file has the flags, the input and the driver (check); layer 1 is in decode.go,
// layer 2 in rules.go (with workloads.go, containers.go, networking.go and rbac.go),
// layer 3 in refs.go.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// externals is the -external flag: Kind/name of objects that exist outside the manifests.
type externals map[string]bool

func (e externals) String() string { return strings.Join(keys(e), ",") }

func (e externals) Set(v string) error {
	kind, name, ok := strings.Cut(v, "/")
	if !ok || kind == "" || name == "" {
		return fmt.Errorf("want Kind/name, got %q", v)
	}
	e[kind+"/"+name] = true
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func main() {
	ext := externals{}
	flag.Var(ext, "external", "Kind/name of an object that exists outside the manifests (repeatable)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-external Kind/name]... [FILE]...  (stdin without FILE)\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()

	var inputs []input
	if flag.NArg() == 0 {
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			fatal(err)
		}
		inputs = append(inputs, input{"<stdin>", data})
	}
	for _, name := range flag.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			fatal(err)
		}
		inputs = append(inputs, input{name, data})
	}

	var objs []*object
	var problems []string
	for _, in := range inputs {
		o, p := decodeAll(in)
		objs = append(objs, o...)
		problems = append(problems, p...)
	}
	problems = append(problems, check(objs, ext)...)
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, p)
		}
		fmt.Fprintf(os.Stderr, "weft-manifest-check: %d problem(s) in %d object(s)\n", len(problems), len(objs))
		os.Exit(1)
	}
	counts := map[string]int{}
	for _, o := range objs {
		counts[o.kind]++
	}
	var parts []string
	for _, k := range sortedKeys(counts) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[k], k))
	}
	fmt.Printf("weft-manifest-check: %d object(s) valid against the Kubernetes API types of %s: %s\n",
		len(objs), apiVersion, strings.Join(parts, ", "))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "weft-manifest-check:", err)
	os.Exit(2)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type input struct {
	name string
	data []byte
}

// check runs the per-object rules, then the references between objects.
func check(objs []*object, ext externals) []string {
	var problems []string
	report := func(o *object, errs field.ErrorList) {
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("%s: %s", o, e.Error()))
		}
	}
	seen := map[string]*object{}
	for _, o := range objs {
		id := o.obj.GetObjectKind().GroupVersionKind().GroupKind().String() + "/" + o.namespace + "/" + o.name
		if prev, dup := seen[id]; dup {
			problems = append(problems, fmt.Sprintf("%s: the same object as %s", o, prev.where))
		}
		seen[id] = o
		report(o, validateObject(o))
	}
	problems = append(problems, checkReferences(objs, ext)...)
	return problems
}
