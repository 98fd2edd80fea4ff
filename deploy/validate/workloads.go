// Layer 2 for workloads: Deployment, StatefulSet, DaemonSet, Job and CronJob specs,
// their selectors and pod templates, and the pod spec (volumes, tolerations, security
// context); each container is checked by containers.go.

package main

import (
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

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
