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
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
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

// --- per-object rules --------------------------------------------------------------------

func validateObject(o *object) field.ErrorList {
	meta := o.obj.(metav1.Object)
	nameFn := apivalidation.NameIsDNSSubdomain
	switch o.kind {
	case "Service":
		nameFn = apivalidation.NameIsDNS1035Label
	case "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		nameFn = func(name string, prefix bool) []string { return path.IsValidPathSegmentName(name) }
	}
	clusterScoped := o.kind == "ClusterRole" || o.kind == "ClusterRoleBinding"
	errs := apivalidation.ValidateObjectMetaAccessor(meta, !clusterScoped, nameFn, field.NewPath("metadata"))

	switch obj := o.obj.(type) {
	case *appsv1.Deployment:
		errs = append(errs, validateDeployment(obj)...)
	case *appsv1.StatefulSet:
		errs = append(errs, validateWorkload(obj.Spec.Selector, &obj.Spec.Template, field.NewPath("spec"), corev1.RestartPolicyAlways)...)
	case *appsv1.DaemonSet:
		errs = append(errs, validateWorkload(obj.Spec.Selector, &obj.Spec.Template, field.NewPath("spec"), corev1.RestartPolicyAlways)...)
	case *batchv1.Job:
		errs = append(errs, validateJobTemplate(&obj.Spec.Template, field.NewPath("spec", "template"))...)
	case *batchv1.CronJob:
		errs = append(errs, validateJobTemplate(&obj.Spec.JobTemplate.Spec.Template, field.NewPath("spec", "jobTemplate", "spec", "template"))...)
	case *corev1.Pod:
		errs = append(errs, validatePodSpec(&obj.Spec, field.NewPath("spec"), "")...)
	case *corev1.Service:
		errs = append(errs, validateService(obj)...)
	case *corev1.ConfigMap:
		errs = append(errs, validateDataKeys(keysOf(obj.Data, obj.BinaryData), field.NewPath("data"))...)
		if size := dataSize(obj.Data, obj.BinaryData); size > 1<<20 {
			errs = append(errs, field.TooLong(field.NewPath("data"), "", 1<<20))
		}
	case *corev1.Secret:
		errs = append(errs, validateDataKeys(keysOf(obj.StringData, obj.Data), field.NewPath("data"))...)
		if size := dataSize(obj.StringData, obj.Data); size > 1<<20 {
			errs = append(errs, field.TooLong(field.NewPath("data"), "", 1<<20))
		}
	case *networkingv1.Ingress:
		errs = append(errs, validateIngress(obj)...)
	case *rbacv1.Role:
		errs = append(errs, validateRules(obj.Rules, true, field.NewPath("rules"))...)
	case *rbacv1.ClusterRole:
		errs = append(errs, validateRules(obj.Rules, false, field.NewPath("rules"))...)
	case *rbacv1.RoleBinding:
		errs = append(errs, validateBinding(obj.RoleRef, obj.Subjects, true)...)
	case *rbacv1.ClusterRoleBinding:
		errs = append(errs, validateBinding(obj.RoleRef, obj.Subjects, false)...)
	}
	return errs
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	if d.Spec.Replicas != nil && *d.Spec.Replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *d.Spec.Replicas, "must be >= 0"))
	}
	if d.Spec.RevisionHistoryLimit != nil && *d.Spec.RevisionHistoryLimit < 0 {
		errs = append(errs, field.Invalid(spec.Child("revisionHistoryLimit"), *d.Spec.RevisionHistoryLimit, "must be >= 0"))
	}
	switch d.Spec.Strategy.Type {
	case "", appsv1.RollingUpdateDeploymentStrategyType:
	case appsv1.RecreateDeploymentStrategyType:
		if d.Spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(spec.Child("strategy", "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	default:
		errs = append(errs, field.NotSupported(spec.Child("strategy", "type"), d.Spec.Strategy.Type, []string{"Recreate", "RollingUpdate"}))
	}
	return append(errs, validateWorkload(d.Spec.Selector, &d.Spec.Template, spec, corev1.RestartPolicyAlways)...)
}

// validateWorkload: a selector that is valid, not empty, and selects the template.
func validateWorkload(sel *metav1.LabelSelector, tpl *corev1.PodTemplateSpec, spec *field.Path, restart corev1.RestartPolicy) field.ErrorList {
	var errs field.ErrorList
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		errs = append(errs, field.Required(spec.Child("selector"), "an empty selector would select every pod"))
	} else {
		errs = append(errs, metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
		if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Matches(labels.Set(tpl.Labels)) {
			errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), tpl.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, validateTemplate(tpl, spec.Child("template"))...)
	errs = append(errs, validatePodSpec(&tpl.Spec, spec.Child("template", "spec"), restart)...)
	return errs
}

func validateJobTemplate(tpl *corev1.PodTemplateSpec, p *field.Path) field.ErrorList {
	errs := validateTemplate(tpl, p)
	rp := tpl.Spec.RestartPolicy
	if rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever {
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), rp, []string{"OnFailure", "Never"}))
	}
	return append(errs, validatePodSpec(&tpl.Spec, p.Child("spec"), "")...)
}

func validateTemplate(tpl *corev1.PodTemplateSpec, p *field.Path) field.ErrorList {
	errs := metavalidation.ValidateLabels(tpl.Labels, p.Child("metadata", "labels"))
	return append(errs, apivalidation.ValidateAnnotations(tpl.Annotations, p.Child("metadata", "annotations"))...)
}

func validatePodSpec(spec *corev1.PodSpec, p *field.Path, restart corev1.RestartPolicy) field.ErrorList {
	var errs field.ErrorList
	if restart != "" && spec.RestartPolicy != "" && spec.RestartPolicy != restart {
		errs = append(errs, field.NotSupported(p.Child("restartPolicy"), spec.RestartPolicy, []string{string(restart)}))
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(spec.ServiceAccountName) {
			errs = append(errs, field.Invalid(p.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	if spec.TerminationGracePeriodSeconds != nil && *spec.TerminationGracePeriodSeconds < 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *spec.TerminationGracePeriodSeconds, "must be >= 0"))
	}
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	errs = append(errs, metavalidation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	for i, t := range spec.Tolerations {
		errs = append(errs, validateToleration(t, p.Child("tolerations").Index(i))...)
	}
	if spec.SecurityContext != nil {
		sc := spec.SecurityContext
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			errs = append(errs, field.Invalid(p.Child("securityContext", "runAsUser"), 0, "runAsNonRoot with user 0"))
		}
	}

	volumes := map[string]bool{}
	for i, v := range spec.Volumes {
		vp := p.Child("volumes").Index(i)
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			errs = append(errs, field.Invalid(vp.Child("name"), v.Name, msg))
		}
		if volumes[v.Name] {
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		}
		volumes[v.Name] = true
		if n := countSources(v.VolumeSource); n != 1 {
			errs = append(errs, field.Invalid(vp, v.Name, fmt.Sprintf("must have exactly one volume source, has %d", n)))
		}
		if v.ConfigMap != nil {
			errs = append(errs, validateItems(v.ConfigMap.Items, vp.Child("configMap", "items"))...)
		}
		if v.Secret != nil {
			errs = append(errs, validateItems(v.Secret.Items, vp.Child("secret", "items"))...)
		}
		if v.EmptyDir != nil {
			switch v.EmptyDir.Medium {
			case corev1.StorageMediumDefault, corev1.StorageMediumMemory:
			default:
				if !strings.HasPrefix(string(v.EmptyDir.Medium), "HugePages") {
					errs = append(errs, field.NotSupported(vp.Child("emptyDir", "medium"), v.EmptyDir.Medium, []string{"", "Memory", "HugePages"}))
				}
			}
			if v.EmptyDir.SizeLimit != nil && v.EmptyDir.SizeLimit.Sign() < 0 {
				errs = append(errs, field.Invalid(vp.Child("emptyDir", "sizeLimit"), v.EmptyDir.SizeLimit.String(), "must be >= 0"))
			}
		}
	}

	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	names := map[string]bool{}
	portNames := map[string]bool{}
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for i, c := range all {
		cp := p.Child("containers").Index(i - len(spec.InitContainers))
		if i < len(spec.InitContainers) {
			cp = p.Child("initContainers").Index(i)
		}
		if names[c.Name] {
			errs = append(errs, field.Duplicate(cp.Child("name"), c.Name))
		}
		names[c.Name] = true
		errs = append(errs, validateContainer(&c, cp, volumes, portNames, i >= len(spec.InitContainers))...)
	}
	return errs
}

func validateToleration(t corev1.Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, metavalidation.ValidateLabelName(t.Key, p.Child("key"))...)
	}
	switch t.Operator {
	case corev1.TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	case "", corev1.TolerationOpEqual:
		if t.Key == "" {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Operator, "operator must be Exists when `key` is empty"))
		}
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, msg))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), t.Operator, []string{"Equal", "Exists"}))
	}
	switch t.Effect {
	case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		errs = append(errs, field.NotSupported(p.Child("effect"), t.Effect, []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}))
	}
	if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
		errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}

func countSources(v corev1.VolumeSource) int {
	// Every source is a pointer field: count those set.
	js, _ := json.Marshal(v)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(js, &m)
	return len(m)
}

func validateItems(items []corev1.KeyToPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		for _, msg := range validation.IsConfigMapKey(it.Key) {
			errs = append(errs, field.Invalid(p.Index(i).Child("key"), it.Key, msg))
		}
		errs = append(errs, validateRelativePath(it.Path, p.Index(i).Child("path"))...)
	}
	return errs
}

func validateRelativePath(s string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s == "" {
		return append(errs, field.Required(p, ""))
	}
	if strings.HasPrefix(s, "/") {
		errs = append(errs, field.Invalid(p, s, "must be a relative path"))
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(p, s, "must not contain '..'"))
		}
	}
	return errs
}

func validateContainer(c *corev1.Container, p *field.Path, volumes, podPorts map[string]bool, regular bool) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(c.Name) {
		errs = append(errs, field.Invalid(p.Child("name"), c.Name, msg))
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	}
	switch c.ImagePullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, []string{"Always", "IfNotPresent", "Never"}))
	}

	ports := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
		}
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if podPorts[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			podPorts[port.Name] = true
			ports[port.Name] = true
		}
		switch port.Protocol {
		case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		default:
			errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, []string{"TCP", "UDP", "SCTP"}))
		}
	}

	envNames := map[string]bool{}
	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		for _, msg := range validation.IsEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(ep.Child("name"), e.Name, msg))
		}
		if envNames[e.Name] {
			errs = append(errs, field.Duplicate(ep.Child("name"), e.Name))
		}
		envNames[e.Name] = true
		if e.ValueFrom != nil {
			if e.Value != "" {
				errs = append(errs, field.Invalid(ep.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
			}
			n := 0
			if f := e.ValueFrom.FieldRef; f != nil {
				n++
				if f.FieldPath == "" {
					errs = append(errs, field.Required(ep.Child("valueFrom", "fieldRef", "fieldPath"), ""))
				}
			}
			if e.ValueFrom.ResourceFieldRef != nil {
				n++
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				n++
				errs = append(errs, validateKeyRef(r.Name, r.Key, ep.Child("valueFrom", "configMapKeyRef"))...)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				n++
				errs = append(errs, validateKeyRef(r.Name, r.Key, ep.Child("valueFrom", "secretKeyRef"))...)
			}
			if n != 1 {
				errs = append(errs, field.Invalid(ep.Child("valueFrom"), n, "must have exactly one source"))
			}
		}
	}
	for i, e := range c.EnvFrom {
		if (e.ConfigMapRef == nil) == (e.SecretRef == nil) {
			errs = append(errs, field.Invalid(p.Child("envFrom").Index(i), "", "must have exactly one of configMapRef and secretRef"))
		}
	}

	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if !volumes[m.Name] {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if !strings.HasPrefix(m.MountPath, "/") {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be an absolute path"))
		}
		if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
		}
	}

	probes := []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if !regular {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "init containers have no probes"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name != "readinessProbe", ports, p.Child(pr.name))...)
	}

	for name, limit := range c.Resources.Limits {
		if req, ok := c.Resources.Requests[name]; ok && req.Cmp(limit) > 0 {
			errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(name)), req.String(), "must be less than or equal to "+string(name)+" limit of "+limit.String()))
		}
	}
	for name, q := range c.Resources.Requests {
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("resources", "requests").Key(string(name)), q.String(), "must be >= 0"))
		}
	}

	if sc := c.SecurityContext; sc != nil {
		if sc.Privileged != nil && *sc.Privileged && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, field.Invalid(p.Child("securityContext"), "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			errs = append(errs, field.Invalid(p.Child("securityContext", "runAsUser"), 0, "runAsNonRoot with user 0"))
		}
	}
	return errs
}

func validateKeyRef(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, field.Required(p.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

func validateProbe(pr *corev1.Probe, successMustBeOne bool, ports map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	handlers := 0
	if pr.Exec != nil {
		handlers++
	}
	if pr.GRPC != nil {
		handlers++
	}
	if pr.TCPSocket != nil {
		handlers++
		errs = append(errs, validateProbePort(pr.TCPSocket.Port, ports, p.Child("tcpSocket", "port"))...)
	}
	if pr.HTTPGet != nil {
		handlers++
		errs = append(errs, validateProbePort(pr.HTTPGet.Port, ports, p.Child("httpGet", "port"))...)
		if !strings.HasPrefix(pr.HTTPGet.Path, "/") && pr.HTTPGet.Path != "" {
			errs = append(errs, field.Invalid(p.Child("httpGet", "path"), pr.HTTPGet.Path, "must start with /"))
		}
		switch pr.HTTPGet.Scheme {
		case "", corev1.URISchemeHTTP, corev1.URISchemeHTTPS:
		default:
			errs = append(errs, field.NotSupported(p.Child("httpGet", "scheme"), pr.HTTPGet.Scheme, []string{"HTTP", "HTTPS"}))
		}
	}
	if handlers != 1 {
		errs = append(errs, field.Invalid(p, handlers, "must have exactly one handler"))
	}
	for name, v := range map[string]int32{"initialDelaySeconds": pr.InitialDelaySeconds, "timeoutSeconds": pr.TimeoutSeconds,
		"periodSeconds": pr.PeriodSeconds, "successThreshold": pr.SuccessThreshold, "failureThreshold": pr.FailureThreshold} {
		if v < 0 {
			errs = append(errs, field.Invalid(p.Child(name), v, "must be >= 0"))
		}
	}
	if successMustBeOne && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	return errs
}

// validateProbePort: a number in range, or the name of one of the container's own ports
// (the API accepts any valid name; the kubelet fails the probe if the container has none).
func validateProbePort(port intstr.IntOrString, ports map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(p, port.IntValue(), msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(port.StrVal) {
		errs = append(errs, field.Invalid(p, port.StrVal, msg))
	}
	if !ports[port.StrVal] {
		errs = append(errs, field.NotFound(p, port.StrVal))
	}
	return errs
}

func validateService(s *corev1.Service) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), s.Spec.Type, []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}))
	}
	if s.Spec.Type != corev1.ServiceTypeExternalName && len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	errs = append(errs, metavalidation.ValidateLabels(s.Spec.Selector, p.Child("selector"))...)
	names := map[string]bool{}
	for i, port := range s.Spec.Ports {
		pp := p.Child("ports").Index(i)
		if len(s.Spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(pp.Child("name"), "when there is more than one port"))
		}
		if port.Name != "" {
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(pp.Child("name"), port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
		}
		if port.TargetPort.Type == intstr.String {
			for _, msg := range validation.IsValidPortName(port.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.StrVal, msg))
			}
		} else if port.TargetPort.IntValue() != 0 {
			for _, msg := range validation.IsValidPortNum(port.TargetPort.IntValue()) {
				errs = append(errs, field.Invalid(pp.Child("targetPort"), port.TargetPort.IntValue(), msg))
			}
		}
		if port.NodePort != 0 && s.Spec.Type != corev1.ServiceTypeNodePort && s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(pp.Child("nodePort"), "may only be used when `type` is 'NodePort' or 'LoadBalancer'"))
		}
	}
	return errs
}

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if ing.Spec.DefaultBackend == nil && len(ing.Spec.Rules) == 0 {
		errs = append(errs, field.Invalid(p, "", "either `defaultBackend` or `rules` must be specified"))
	}
	for i, r := range ing.Spec.Rules {
		rp := p.Child("rules").Index(i)
		if r.Host != "" {
			host := strings.TrimPrefix(r.Host, "*.")
			for _, msg := range validation.IsDNS1123Subdomain(host) {
				errs = append(errs, field.Invalid(rp.Child("host"), r.Host, msg))
			}
		}
		if r.HTTP == nil {
			continue
		}
		for j, path := range r.HTTP.Paths {
			pp := rp.Child("http", "paths").Index(j)
			if path.PathType == nil {
				errs = append(errs, field.Required(pp.Child("pathType"), "pathType must be specified"))
			} else {
				switch *path.PathType {
				case networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
				default:
					errs = append(errs, field.NotSupported(pp.Child("pathType"), *path.PathType, []string{"Exact", "Prefix", "ImplementationSpecific"}))
				}
			}
			if !strings.HasPrefix(path.Path, "/") {
				errs = append(errs, field.Invalid(pp.Child("path"), path.Path, "must be an absolute path"))
			}
			errs = append(errs, validateIngressBackend(path.Backend, pp.Child("backend"))...)
		}
	}
	return errs
}

func validateIngressBackend(b networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Service != nil && b.Resource != nil:
		errs = append(errs, field.Invalid(p, "", "cannot set both service and resource backends"))
	case b.Service != nil:
		if b.Service.Name == "" {
			errs = append(errs, field.Required(p.Child("service", "name"), ""))
		}
		port := b.Service.Port
		if (port.Name == "") == (port.Number == 0) {
			errs = append(errs, field.Invalid(p.Child("service", "port"), "", "exactly one of name and number"))
		}
		if port.Number != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.Number)) {
				errs = append(errs, field.Invalid(p.Child("service", "port", "number"), port.Number, msg))
			}
		}
	case b.Resource == nil:
		errs = append(errs, field.Required(p, "one backend (service or resource) is required"))
	}
	return errs
}

func keysOf(a map[string]string, b map[string][]byte) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dataSize(a map[string]string, b map[string][]byte) int {
	n := 0
	for k, v := range a {
		n += len(k) + len(v)
	}
	for k, v := range b {
		n += len(k) + len(v)
	}
	return n
}

func validateDataKeys(ks []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range ks {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(p.Key(k), k, msg))
		}
	}
	return errs
}

func validateRules(rules []rbacv1.PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		rp := p.Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(rp.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(rp.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(rp.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func validateBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	rp := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(rp.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	switch {
	case ref.Kind == "ClusterRole", ref.Kind == "Role" && namespaced:
	default:
		errs = append(errs, field.NotSupported(rp.Child("kind"), ref.Kind, []string{"Role", "ClusterRole"}))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(rp.Child("name"), ""))
	}
	for i, s := range subjects {
		sp := field.NewPath("subjects").Index(i)
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			for _, msg := range validation.IsDNS1123Subdomain(s.Name) {
				errs = append(errs, field.Invalid(sp.Child("name"), s.Name, msg))
			}
			if s.Namespace == "" && !namespaced {
				errs = append(errs, field.Required(sp.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(sp.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(sp.Child("kind"), s.Kind, []string{"ServiceAccount", "User", "Group"}))
		}
	}
	return errs
}

// --- references between objects ----------------------------------------------------------

// podTemplate is a pod spec of some workload, with where it is.
type podTemplate struct {
	owner  *object
	labels map[string]string
	spec   *corev1.PodSpec
}

func podTemplates(objs []*object) []podTemplate {
	var out []podTemplate
	for _, o := range objs {
		switch obj := o.obj.(type) {
		case *appsv1.Deployment:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *appsv1.StatefulSet:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *appsv1.DaemonSet:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *batchv1.Job:
			out = append(out, podTemplate{o, obj.Spec.Template.Labels, &obj.Spec.Template.Spec})
		case *batchv1.CronJob:
			t := &obj.Spec.JobTemplate.Spec.Template
			out = append(out, podTemplate{o, t.Labels, &t.Spec})
		case *corev1.Pod:
			out = append(out, podTemplate{o, obj.Labels, &obj.Spec})
		}
	}
	return out
}

func checkReferences(objs []*object, ext externals) []string {
	var problems []string
	// Rendered objects by Kind/namespace/name, and the keys of ConfigMaps and Secrets.
	rendered := map[string]*object{}
	dataKeys := map[string]map[string]bool{}
	for _, o := range objs {
		id := o.kind + "/" + o.namespace + "/" + o.name
		rendered[id] = o
		switch obj := o.obj.(type) {
		case *corev1.ConfigMap:
			dataKeys[id] = set(keysOf(obj.Data, obj.BinaryData))
		case *corev1.Secret:
			dataKeys[id] = set(keysOf(obj.StringData, obj.Data))
		}
	}
	// need reports a reference to kind/name in namespace ns that is neither rendered nor
	// external; with key, also a key the rendered ConfigMap or Secret lacks.
	need := func(from *object, what, kind, ns, name, key string, optional bool) {
		if optional || name == "" {
			return
		}
		id := kind + "/" + ns + "/" + name
		if _, ok := rendered[id]; ok {
			if key != "" && dataKeys[id] != nil && !dataKeys[id][key] {
				problems = append(problems, fmt.Sprintf("%s: %s: %s %s has no key %q", from, what, kind, name, key))
			}
			return
		}
		if ext[kind+"/"+name] || (kind == "ServiceAccount" && name == "default") {
			return
		}
		problems = append(problems, fmt.Sprintf("%s: %s: %s %q is neither in the manifests nor declared -external %s/%s", from, what, kind, name, kind, name))
	}
	isTrue := func(b *bool) bool { return b != nil && *b }

	templates := podTemplates(objs)
	for _, t := range templates {
		ns := t.owner.namespace
		sa := t.spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		need(t.owner, "serviceAccountName", "ServiceAccount", ns, sa, "", false)
		for _, s := range t.spec.ImagePullSecrets {
			need(t.owner, "imagePullSecrets", "Secret", ns, s.Name, "", false)
		}
		for _, v := range t.spec.Volumes {
			if c := v.ConfigMap; c != nil {
				for _, it := range c.Items {
					need(t.owner, "volume "+v.Name, "ConfigMap", ns, c.Name, it.Key, isTrue(c.Optional))
				}
				if len(c.Items) == 0 {
					need(t.owner, "volume "+v.Name, "ConfigMap", ns, c.Name, "", isTrue(c.Optional))
				}
			}
			if s := v.Secret; s != nil {
				for _, it := range s.Items {
					need(t.owner, "volume "+v.Name, "Secret", ns, s.SecretName, it.Key, isTrue(s.Optional))
				}
				if len(s.Items) == 0 {
					need(t.owner, "volume "+v.Name, "Secret", ns, s.SecretName, "", isTrue(s.Optional))
				}
			}
		}
		for _, c := range append(append([]corev1.Container{}, t.spec.InitContainers...), t.spec.Containers...) {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					need(t.owner, "container "+c.Name+" env "+e.Name, "Secret", ns, r.Name, r.Key, isTrue(r.Optional))
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					need(t.owner, "container "+c.Name+" env "+e.Name, "ConfigMap", ns, r.Name, r.Key, isTrue(r.Optional))
				}
			}
			for _, e := range c.EnvFrom {
				if r := e.SecretRef; r != nil {
					need(t.owner, "container "+c.Name+" envFrom", "Secret", ns, r.Name, "", isTrue(r.Optional))
				}
				if r := e.ConfigMapRef; r != nil {
					need(t.owner, "container "+c.Name+" envFrom", "ConfigMap", ns, r.Name, "", isTrue(r.Optional))
				}
			}
		}
	}

	for _, o := range objs {
		switch obj := o.obj.(type) {
		case *corev1.Service:
			if len(obj.Spec.Selector) == 0 {
				continue
			}
			sel := labels.SelectorFromSet(obj.Spec.Selector)
			var selected []podTemplate
			for _, t := range templates {
				if t.owner.namespace == o.namespace && sel.Matches(labels.Set(t.labels)) {
					selected = append(selected, t)
				}
			}
			if len(selected) == 0 {
				problems = append(problems, fmt.Sprintf("%s: spec.selector %v selects no pod template of the manifests", o, obj.Spec.Selector))
				continue
			}
			for _, port := range obj.Spec.Ports {
				if port.TargetPort.Type != intstr.String {
					continue
				}
				for _, t := range selected {
					if !declaresPort(t.spec, port.TargetPort.StrVal) {
						problems = append(problems, fmt.Sprintf("%s: targetPort %q: %s has no container port of that name", o, port.TargetPort.StrVal, t.owner))
					}
				}
			}
		case *networkingv1.Ingress:
			for _, t := range obj.Spec.TLS {
				need(o, "spec.tls", "Secret", o.namespace, t.SecretName, "", false)
			}
			for _, r := range obj.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for _, path := range r.HTTP.Paths {
					svc := path.Backend.Service
					if svc == nil {
						continue
					}
					need(o, "backend", "Service", o.namespace, svc.Name, "", false)
					if target, ok := rendered["Service/"+o.namespace+"/"+svc.Name]; ok && !servicePort(target.obj.(*corev1.Service), svc.Port) {
						problems = append(problems, fmt.Sprintf("%s: backend: Service %s has no port %s", o, svc.Name, portString(svc.Port)))
					}
				}
			}
		case *rbacv1.RoleBinding:
			if obj.RoleRef.Kind == "Role" {
				need(o, "roleRef", "Role", o.namespace, obj.RoleRef.Name, "", false)
			}
			for _, s := range obj.Subjects {
				if s.Kind == rbacv1.ServiceAccountKind {
					ns := s.Namespace
					if ns == "" {
						ns = o.namespace
					}
					need(o, "subjects", "ServiceAccount", ns, s.Name, "", false)
				}
			}
		}
	}
	return problems
}

func servicePort(s *corev1.Service, port networkingv1.ServiceBackendPort) bool {
	for _, p := range s.Spec.Ports {
		if (port.Name != "" && p.Name == port.Name) || (port.Number != 0 && p.Port == port.Number) {
			return true
		}
	}
	return false
}

func portString(port networkingv1.ServiceBackendPort) string {
	if port.Name != "" {
		return fmt.Sprintf("%q", port.Name)
	}
	return fmt.Sprint(port.Number)
}

func declaresPort(spec *corev1.PodSpec, name string) bool {
	for _, c := range spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func set(ks []string) map[string]bool {
	m := map[string]bool{}
	for _, k := range ks {
		m[k] = true
	}
	return m
}
