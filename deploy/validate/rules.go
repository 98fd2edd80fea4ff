// Layer 2, the entry point: the API server's per-object rules. validateObject checks
// metadata and dispatches on the kind to workloads.go, containers.go, networking.go and
// rbac.go; the ConfigMap and Secret data rules (keys and size) are here.

package main

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

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
